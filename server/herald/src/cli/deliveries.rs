//! `herald deliveries …`: the queue as an operator sees it, and what to do about dead
//! letters and unreachable servers.

use super::CliError;
use crate::{app::Herald, config::Config, db, delivery};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum DeliveriesCommand {
    /// Show the queue: entries waiting, in flight and waiting to retry; deliveries by
    /// state; and the servers that are failing or unreachable.
    Status,
    /// Put dead letters (failed deliveries) back in the queue, all or one server's.
    Retry {
        /// Only deliveries to this server (host, or host:port).
        #[arg(long, value_name = "HOST")]
        server: Option<String>,
    },
    /// Delete dead letters (failed deliveries), all or one server's.
    Drop {
        #[arg(long, value_name = "HOST")]
        server: Option<String>,
    },
    /// Mark an unreachable server reachable and send its parked deliveries now.
    Revive { server: String },
}

fn fail(e: impl std::error::Error + 'static) -> CliError {
    CliError::msg(crate::error_chain(&e))
}

pub async fn run(config: Config, command: DeliveriesCommand) -> Result<(), CliError> {
    let herald = Herald::start(config).await?;
    let (db, queue) = (&herald.state.db, &herald.state.queue);
    match command {
        DeliveriesCommand::Status => {
            let stats = queue.stats().await.map_err(fail)?;
            println!("queue");
            println!("  fan-outs waiting:     {}", stats.fanout_length);
            println!("  deliveries waiting:   {}", stats.delivery_length);
            println!("  in flight:            {}", stats.in_flight);
            println!("  waiting to retry:     {}", stats.retry_waiting);
            println!("deliveries");
            for (state, count) in db::delivery_counts(db, None).await.map_err(fail)? {
                let label = if state == db::DeliveryState::Failed.as_str() {
                    "failed (dead letters)".to_string()
                } else {
                    state
                };
                println!("  {label:<21} {count}");
            }
            let troubled = db::troubled_instances(db).await.map_err(fail)?;
            if troubled.is_empty() {
                println!("servers: all reachable");
            } else {
                println!("servers with failures");
                for server in troubled {
                    let state = if server.unreachable {
                        "unreachable"
                    } else {
                        "failing"
                    };
                    let since = server
                        .failing_since
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default();
                    println!(
                        "  {}\t{state}\t{} failures since {since}\t{}",
                        server.authority,
                        server.consecutive_failures,
                        server.last_error.unwrap_or_default()
                    );
                }
            }
        }
        DeliveriesCommand::Retry { server } => {
            let mut total = 0;
            loop {
                // A dead letter starts over: its attempts begin again from zero.
                let failed = db::DeliveryState::Failed;
                let queued = db::requeue_deliveries(db, failed, server.as_deref(), 1000, true)
                    .await
                    .map_err(fail)?;
                if queued.is_empty() {
                    break;
                }
                queue.enqueue_deliveries(&queued).await.map_err(fail)?;
                total += queued.len();
            }
            println!("{total} dead letter(s) queued again");
        }
        DeliveriesCommand::Drop { server } => {
            let dropped = db::drop_failed_deliveries(db, server.as_deref())
                .await
                .map_err(fail)?;
            println!("{dropped} dead letter(s) deleted");
        }
        DeliveriesCommand::Revive { server } => {
            let revived = delivery::revive_server(db, queue, &server)
                .await
                .map_err(fail)?;
            println!("{server}: {revived} parked deliveries queued");
        }
    }
    Ok(())
}
