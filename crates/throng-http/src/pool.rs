//! HTTP/2 connections shared by VUs: per origin, at most N connections, each carrying at
//! most M concurrent streams (fewer if the server's `SETTINGS_MAX_CONCURRENT_STREAMS` says
//! so). A request takes a stream on the connection its VU's previous request used, if that
//! one is live and has room (so a VU keeps to one connection, as each of h2load's clients
//! does, and a request does not look at every connection); otherwise on the least loaded
//! live connection. A new connection is
//! opened (by the request that needs it, so its connect and TLS times are that request's)
//! only when every connection is full and fewer than N exist; otherwise the request waits
//! for a stream to free up (the wait is its `blocked` time). A connection that dies is
//! dropped from the pool at the next pick and replaced when needed; its in-flight streams
//! fail with their own error (see the client).
use crate::conn::{Conn, H2Sender, Origin, Sender};
use crate::io::IoStats;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// How VUs share HTTP/2 connections (h2load's `-c` and `-m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Http2Sharing {
    /// Most connections per origin (at least 1).
    pub connections: usize,
    /// Most concurrent streams per connection (at least 1; the server's
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` lowers it).
    pub streams: usize,
}

/// The shared connections of every origin.
pub(crate) struct H2Pool {
    sharing: Http2Sharing,
    origins: Mutex<Vec<(Origin, Arc<OriginPool>)>>,
}

/// One origin's connections.
pub(crate) struct OriginPool {
    sharing: Http2Sharing,
    state: Mutex<OriginState>,
    /// Woken when a stream frees up, a connection is added or an opening fails.
    notify: Notify,
    /// Requests waiting for a stream (so that a release only wakes when someone waits).
    waiting: AtomicUsize,
    /// `OriginState::http1`, readable without the lock (a VU's next request goes on its
    /// own connections from then on, not on its last shared one).
    http1: AtomicBool,
}

#[derive(Default)]
struct OriginState {
    conns: Vec<Arc<SharedConn>>,
    /// Connections being opened.
    opening: usize,
    /// The origin answered ALPN with HTTP/1.1: its connections are each VU's own.
    http1: bool,
}

/// One shared HTTP/2 connection.
pub(crate) struct SharedConn {
    pub sender: H2Sender,
    pub stats: Arc<IoStats>,
    /// Streams in flight.
    in_flight: AtomicUsize,
    /// Bytes already attributed to requests (see [`SharedConn::claim`]).
    claimed_w: AtomicU64,
    claimed_r: AtomicU64,
}

impl SharedConn {
    /// The bytes written and read on this connection since the last claim: each request
    /// claims what it finds when it ends, so the requests' bytes add up to the connection's
    /// exactly (frames of streams still in flight go to whichever request ends next).
    pub fn claim(&self) -> (u64, u64) {
        let w = self.stats.written.load(Ordering::Relaxed);
        let r = self.stats.read.load(Ordering::Relaxed);
        let pw = self.claimed_w.fetch_max(w, Ordering::Relaxed);
        let pr = self.claimed_r.fetch_max(r, Ordering::Relaxed);
        (w.saturating_sub(pw), r.saturating_sub(pr))
    }

    /// The most streams this connection takes now: the smaller of M and the server's
    /// setting.
    fn limit(&self, m: usize) -> usize {
        m.min(self.sender.max_streams()).max(1)
    }
}

/// A stream slot on a shared connection, given back when dropped.
pub(crate) struct Lease {
    pub conn: Arc<SharedConn>,
    origin: Arc<OriginPool>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.conn.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.origin.wake();
    }
}

/// The right to open one connection for the origin; if dropped unused (the connection
/// failed), the slot is given back and waiting requests try again.
pub(crate) struct Ticket {
    origin: Arc<OriginPool>,
    used: bool,
}

impl Ticket {
    /// Adds the opened connection to the pool with one stream taken by the caller. An
    /// HTTP/1.1 connection (ALPN chose it) is not shareable: it is handed back, and the
    /// origin's later requests go to each VU's own connections.
    pub fn add(mut self, conn: Conn) -> Result<Lease, Conn> {
        self.used = true;
        let mut st = lock(&self.origin.state);
        st.opening = st.opening.saturating_sub(1);
        let Sender::H2(sender) = conn.sender else {
            st.http1 = true;
            self.origin.http1.store(true, Ordering::SeqCst);
            drop(st);
            self.origin.notify.notify_waiters();
            return Err(conn);
        };
        let shared = Arc::new(SharedConn {
            stats: sender.stats.clone(),
            sender,
            in_flight: AtomicUsize::new(1),
            claimed_w: AtomicU64::new(0),
            claimed_r: AtomicU64::new(0),
        });
        st.conns.push(shared.clone());
        drop(st);
        // the new connection may have room for more than this request
        self.origin.notify.notify_waiters();
        Ok(Lease {
            conn: shared,
            origin: self.origin.clone(),
        })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.used {
            let mut st = lock(&self.origin.state);
            st.opening = st.opening.saturating_sub(1);
            drop(st);
            self.origin.notify.notify_waiters();
        }
    }
}

/// What a request gets from the pool.
pub(crate) enum Checkout {
    /// A stream on a live connection.
    Stream(Lease),
    /// No room and fewer than N connections: the caller opens one.
    Open(Ticket),
    /// The origin speaks HTTP/1.1 only: the caller uses a connection of its own.
    Http1,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl std::fmt::Debug for H2Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Pool")
            .field("sharing", &self.sharing)
            .finish_non_exhaustive()
    }
}

impl H2Pool {
    pub fn new(sharing: Http2Sharing) -> H2Pool {
        H2Pool {
            sharing: Http2Sharing {
                connections: sharing.connections.max(1),
                streams: sharing.streams.max(1),
            },
            origins: Mutex::new(Vec::new()),
        }
    }

    /// The origin's pool, created on first use.
    pub fn origin(&self, o: &Origin) -> Arc<OriginPool> {
        let mut all = lock(&self.origins);
        if let Some((_, p)) = all.iter().find(|(k, _)| k == o) {
            return p.clone();
        }
        let p = Arc::new(OriginPool {
            sharing: self.sharing,
            state: Mutex::new(OriginState::default()),
            notify: Notify::new(),
            waiting: AtomicUsize::new(0),
            http1: AtomicBool::new(false),
        });
        all.push((o.clone(), p.clone()));
        p
    }
}

/// Counts a waiting request for as long as it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl OriginPool {
    fn wake(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.notify.notify_waiters();
        }
    }

    /// A stream on `last` (the connection of the VU's previous request) if it is live
    /// and has room; else one on the least loaded live connection, the right to open a
    /// connection, or (when every connection is full and N are open) a wait for a stream
    /// to free up.
    pub async fn checkout(self: &Arc<Self>, last: Option<&Arc<SharedConn>>) -> Checkout {
        if !self.http1.load(Ordering::SeqCst) {
            if let Some(lease) = last.and_then(|c| self.take_stream(c)) {
                return Checkout::Stream(lease);
            }
        }
        loop {
            if let Some(c) = self.try_checkout() {
                return c;
            }
            // registered, then looked at again: a release after this look wakes it
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.waiting.fetch_add(1, Ordering::SeqCst);
            let _waiting = Waiting(&self.waiting);
            if let Some(c) = self.try_checkout() {
                return c;
            }
            notified.await;
        }
    }

    /// A stream on `conn` if it is live and has room. Taken by one compare-and-swap, so
    /// that a request taking it this way and one taking it in [`OriginPool::try_checkout`]
    /// (under the lock) never take more than its limit between them.
    fn take_stream(self: &Arc<Self>, conn: &Arc<SharedConn>) -> Option<Lease> {
        if conn.sender.is_closed() {
            return None;
        }
        let limit = conn.limit(self.sharing.streams);
        conn.in_flight
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()?;
        Some(Lease {
            conn: conn.clone(),
            origin: self.clone(),
        })
    }

    fn try_checkout(self: &Arc<Self>) -> Option<Checkout> {
        let mut st = lock(&self.state);
        if st.http1 {
            return Some(Checkout::Http1);
        }
        st.conns.retain(|c| !c.sender.is_closed());
        // looked at again if another request took the chosen one's last stream meanwhile,
        // or it closed (its task marks it without this lock): the closed are passed over,
        // so each look finds one fewer stream or connection and this ends
        while let Some(conn) = st
            .conns
            .iter()
            .map(|c| (c.in_flight.load(Ordering::SeqCst), c))
            .filter(|(n, c)| *n < c.limit(self.sharing.streams) && !c.sender.is_closed())
            .min_by_key(|(n, _)| *n)
            .map(|(_, c)| c)
        {
            if let Some(lease) = self.take_stream(conn) {
                return Some(Checkout::Stream(lease));
            }
        }
        if st.conns.len() + st.opening < self.sharing.connections {
            st.opening += 1;
            return Some(Checkout::Open(Ticket {
                origin: self.clone(),
                used: false,
            }));
        }
        None
    }
}
