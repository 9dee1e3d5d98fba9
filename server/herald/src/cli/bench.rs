//! `herald bench …`: the delivery engine's benchmarks.

use super::CliError;
use crate::bench::{self, ExpandArgs, FanoutArgs};
use clap::Subcommand;
use std::{path::PathBuf, time::Duration};

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// RSA-2048 signatures per second on one core, with the signer deliveries use.
    Sign {
        /// How long to sign for.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// Post to N followers on K servers and time the whole delivery.
    ///
    /// Fake inboxes verify every signature in a child process; the worker runs in another.
    /// Prints the API's answer time, first and last delivery, deliveries per second, POSTs
    /// per server (must be 1), duplicates and the worker's peak memory.
    Fanout {
        #[arg(long, default_value_t = 1000)]
        followers: u64,
        #[arg(long, default_value_t = 100)]
        instances: u64,
        /// Percent of servers that refuse connections.
        #[arg(long, default_value_t = 0)]
        dead_percent: u64,
        /// Percent of servers that take requests and never answer.
        #[arg(long, default_value_t = 0)]
        hang_percent: u64,
        /// Database to use instead of a fresh SQLite file (it must be empty).
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// Give up waiting for deliveries after this many seconds.
        #[arg(long, default_value_t = 600)]
        wait_secs: u64,
        /// `delivery.concurrency` of the worker (default: the configured value).
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// How fast a fan-out turns N followers into delivery jobs.
    Expand {
        #[arg(long, default_value_t = 100_000)]
        followers: u64,
        #[arg(long, default_value_t = 10_000)]
        instances: u64,
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// (Used by `bench fanout`.) Fake inboxes for K servers on one port.
    #[command(hide = true)]
    Sink {
        #[arg(long)]
        public_key_file: PathBuf,
        #[arg(long)]
        instances: u64,
        #[arg(long, default_value_t = 0)]
        dead_percent: u64,
        #[arg(long, default_value_t = 0)]
        hang_percent: u64,
    },
}

pub async fn run(command: BenchCommand) -> Result<(), CliError> {
    let fail = |e: bench::BenchError| CliError::msg(e.0);
    match command {
        BenchCommand::Sign { seconds } => bench::sign(seconds).map_err(fail),
        BenchCommand::Fanout {
            followers,
            instances,
            dead_percent,
            hang_percent,
            database_url,
            wait_secs,
            concurrency,
        } => {
            let worker_env = concurrency
                .map(|c| vec![("HERALD_DELIVERY__CONCURRENCY".to_string(), c.to_string())])
                .unwrap_or_default();
            bench::fanout(FanoutArgs {
                followers,
                instances,
                dead_percent,
                hang_percent,
                database_url,
                wait: Duration::from_secs(wait_secs),
                worker_env,
            })
            .await
            .map_err(fail)
        }
        BenchCommand::Expand {
            followers,
            instances,
            database_url,
        } => bench::expand(ExpandArgs {
            followers,
            instances,
            database_url,
        })
        .await
        .map_err(fail),
        BenchCommand::Sink {
            public_key_file,
            instances,
            dead_percent,
            hang_percent,
        } => {
            let key = std::fs::read_to_string(&public_key_file)
                .map_err(|e| CliError::msg(format!("{}: {e}", public_key_file.display())))?;
            let listener = std::net::TcpListener::bind("127.0.0.1:0")
                .map_err(|e| CliError::msg(format!("bind: {e}")))?;
            let port = listener
                .local_addr()
                .map_err(|e| CliError::msg(format!("bind: {e}")))?
                .port();
            let hanging = (0..instances)
                .filter(|k| bench::instance_kind(*k, dead_percent, hang_percent) == "hang")
                .map(|k| format!("i{k}.localhost:{port}"))
                .collect();
            println!("{port}");
            bench::sink::start(listener, &key, hanging, Duration::ZERO)
                .map_err(|e| CliError::msg(format!("sink: {e}")))?
                .await
                .map_err(|e| CliError::msg(format!("sink: {e}")))
        }
    }
}
