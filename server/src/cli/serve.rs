//! `herald serve` and `herald worker`.

use super::CliError;
use crate::{app::Herald, config::Config};
use clap::Args;
use std::net::TcpListener;
use tokio::sync::watch;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Do not run delivery workers in this process (run `herald worker` separately).
    #[arg(long)]
    no_workers: bool,
}

pub async fn serve(config: Config, args: ServeArgs) -> Result<(), CliError> {
    // Bind first: a port in use is reported before anything else starts.
    let listener = TcpListener::bind(config.listen)
        .map_err(|e| CliError::msg(format!("listen: cannot listen on {}: {e}", config.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| CliError::msg(format!("listen: {e}")))?;
    let domain = config.domain.clone();
    let herald = Herald::start(config).await?;
    tracing::info!(%address, %domain, workers = !args.no_workers, "Herald is serving");
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    herald
        .serve(listener, !args.no_workers, rx)
        .await
        .map_err(|e| CliError::msg(crate::error_chain(&e)))
}

pub async fn worker(config: Config) -> Result<(), CliError> {
    let herald = Herald::start(config).await?;
    let worker = herald
        .worker()
        .map_err(|e| CliError::msg(crate::error_chain(&e)))?;
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    tokio::spawn(crate::app::run_scheduler(
        herald.federation.clone(),
        rx.clone(),
    ));
    worker
        .run(rx)
        .await
        .map_err(|e| CliError::msg(crate::error_chain(&e)))
}

/// Waits for SIGTERM (systemd, containers) or Ctrl-C.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
