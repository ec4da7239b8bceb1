//! The raw-sample outputs (`--out json=`, `--out csv=`): batches of samples (one per
//! second) go to a writer thread, so file I/O never blocks the run loop.
use std::sync::mpsc;
use throng_metrics::{RawSample, Snapshot};
use throng_report::{FileError, SampleWriter};

type Batch = (Vec<RawSample>, Snapshot);

/// A running NDJSON writer.
pub(crate) struct RawOutput {
    tx: Option<mpsc::Sender<Batch>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl RawOutput {
    /// Starts the writer thread over the opened files.
    pub fn start(mut writers: Vec<Box<dyn SampleWriter>>) -> Result<RawOutput, FileError> {
        let (tx, rx) = mpsc::channel::<Batch>();
        let thread = std::thread::Builder::new()
            .name("throng-samples".into())
            .spawn(move || {
                let mut err = None;
                for (mut batch, snap) in rx {
                    for w in writers.iter_mut() {
                        if err.is_none() {
                            err = w.write(&mut batch, &snap).err();
                        }
                    }
                }
                for w in writers {
                    let done = w.finish();
                    if err.is_none() {
                        err = done.err();
                    }
                }
                match err {
                    Some(e) => Err(e),
                    None => Ok(()),
                }
            })
            .map_err(|e| FileError::new(std::path::Path::new("(sample writer)"), e))?;
        Ok(RawOutput {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues one second's samples.
    pub fn send(&mut self, batch: Vec<RawSample>, snap: &Snapshot) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((batch, snap.clone()));
        }
    }

    /// Writes what is queued and closes the file.
    pub fn finish(&mut self) -> std::io::Result<()> {
        self.tx.take();
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| std::io::Error::other("the writer thread panicked"))?,
            None => Ok(()),
        }
    }
}
