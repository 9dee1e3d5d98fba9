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
    let rx = on_signal()?;
    let herald = Herald::start(config).await?;
    tracing::info!(%address, %domain, workers = !args.no_workers, "Herald is serving");
    herald
        .serve(listener, !args.no_workers, rx)
        .await
        .map_err(|e| CliError::msg(crate::error_chain(&e)))
}

pub async fn worker(config: Config) -> Result<(), CliError> {
    let rx = on_signal()?;
    let herald = Herald::start(config).await?;
    let worker = herald
        .worker()
        .map_err(|e| CliError::msg(crate::error_chain(&e)))?;
    tokio::spawn(crate::app::run_scheduler(
        herald.federation.clone(),
        rx.clone(),
    ));
    let metrics_server = herald
        .start_metrics_server()
        .map_err(|e| CliError::msg(crate::error_chain(&e)))?;
    let result = worker
        .run(rx)
        .await
        .map_err(|e| CliError::msg(crate::error_chain(&e)));
    if let Some(server) = metrics_server {
        server.stop(false).await;
    }
    result
}

/// A receiver that turns true at SIGTERM (systemd, containers) or Ctrl-C. The handlers
/// are installed at once, so a signal during start-up is not lost.
fn on_signal() -> Result<watch::Receiver<bool>, CliError> {
    let (tx, rx) = watch::channel(false);
    #[cfg(unix)]
    let mut term = {
        use tokio::signal::unix::{signal, SignalKind};
        signal(SignalKind::terminate())
            .map_err(|e| CliError::msg(format!("cannot handle SIGTERM: {e}")))?
    };
    let interrupt = tokio::signal::ctrl_c();
    tokio::spawn(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt => {}
        }
        #[cfg(not(unix))]
        let _ = interrupt.await;
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    Ok(rx)
}
