//! Ctrl-C and SIGTERM cancel the run gracefully; a second Ctrl-C exits at once.
use tokio_util::sync::CancellationToken;

/// Spawns a task that cancels `token` on the first SIGINT/SIGTERM and exits on the second.
pub fn install(token: CancellationToken) {
    tokio::spawn(async move {
        wait().await;
        eprintln!("\nstopping gracefully (Ctrl-C again to quit at once)...");
        token.cancel();
        wait().await;
        std::process::exit(throng_run::ExitCode::Interrupted.code());
    });
}

#[cfg(unix)]
async fn wait() {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    match term {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait() {
    let _ = tokio::signal::ctrl_c().await;
}
