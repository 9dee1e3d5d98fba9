//! The `herald` command: a file per subcommand, each thin, calling the modules it needs.
//! Errors go to stderr with their causes and a non-zero exit status; results to stdout.

mod backup;
mod bench;
mod channel;
mod deliveries;
mod doctor;
mod export;
mod import;
mod migrate;
mod moderation;
mod moving;
mod serve;
mod source;
mod token;
mod user;

use crate::config::{Config, ConfigError};
use clap::{Parser, Subcommand};
use std::{path::PathBuf, process::ExitCode};

/// Herald: a federated channel broadcast server.
///
/// A channel is a one-way announcement feed (@name@your.domain) that people on Mastodon and
/// other ActivityPub servers can follow. Its owner posts through the HTTP API with a token
/// from `herald token issue`.
///
/// Settings come from config/default.toml (built in), the file given by --config or
/// HERALD_CONFIG, and HERALD_* environment variables (HERALD_DOMAIN, HERALD_DATABASE_URL, …).
#[derive(Parser, Debug)]
#[command(name = "herald", version, propagate_version = true)]
pub struct Cli {
    /// A TOML configuration file with the keys to change (see config/default.toml).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the web server, with delivery workers inside unless --no-workers.
    ///
    /// Applies pending database migrations first. Stops gracefully on SIGTERM or Ctrl-C.
    Serve(serve::ServeArgs),
    /// Run delivery workers only, to scale delivery out across processes and machines.
    ///
    /// Every worker must use the same database and Redis as the web servers.
    Worker,
    /// Apply pending database migrations and exit (serve also applies them at start).
    Migrate,
    /// Create, list, show and delete channels; grant and revoke people's roles.
    #[command(subcommand)]
    Channel(channel::ChannelCommand),
    /// Issue, list and revoke API tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// The feeds a channel mirrors: add, list, remove.
    #[command(subcommand)]
    Source(source::SourceCommand),
    /// The people who sign in to the console: create, list, disable, delete, sign out.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Inspect the delivery queue; retry or drop dead letters; revive a server.
    #[command(subcommand)]
    Deliveries(deliveries::DeliveriesCommand),
    /// Block and unblock domains, instance-wide or for one channel.
    #[command(subcommand)]
    Domains(moderation::DomainsCommand),
    /// List the reports (`Flag`s) other servers sent, newest first.
    Reports(moderation::ReportsArgs),
    /// Back up the whole instance while it runs: database, media and token secret.
    ///
    /// Writes into DIR, which must be new or empty: the database (SQLite: a consistent
    /// snapshot `herald.db`, taken with VACUUM INTO, safe while Herald serves; PostgreSQL:
    /// `herald.pgdump`, made by running `pg_dump`, which must be installed, else the command
    /// prints what to run), a copy of the media directory in `media/`, the API token secret
    /// `jwt.secret`, and MANIFEST.txt with what was written and how to restore it.
    /// The backup holds every channel's private key: keep it private.
    Backup(backup::BackupArgs),
    /// Write one channel to an archive FILE, to move it to another Herald.
    ///
    /// The archive holds the channel's profile, its signing key pair, every post
    /// (published, scheduled and deleted), its media files and its followers. It holds the
    /// channel's PRIVATE KEY, so whoever has the file can post as the channel: keep it
    /// secret (it is created readable by you only). API tokens, the delivery queue and
    /// what other servers sent (replies, reports) are not exported. Bring it up elsewhere
    /// with `herald import`.
    Export(export::ExportArgs),
    /// Create a channel from an archive made by `herald export`.
    ///
    /// On a Herald with the archive's domain (a new server for the same domain, or this
    /// one after the channel was deleted) every id is kept: followers' servers see the same
    /// actor and posts, and the followers are restored. On another domain, or under
    /// another --name, the channel starts afresh with new addresses but the same key,
    /// profile, posts and media, and without followers: they follow the old actor, and
    /// only a Move from it (not sent by import) could bring them over. Import sends
    /// nothing to anyone. A channel of that name must not exist; if anything fails,
    /// nothing is imported.
    Import(import::ImportArgs),
    /// Check this installation: configuration, database, Redis, clocks, disks, and that
    /// the public address reaches this Herald through the proxy.
    ///
    /// Prints one line per check (ok, warn, FAIL or skip, with why) and exits non-zero
    /// when any check fails. Starts and changes nothing; safe while Herald runs.
    Doctor,
    /// Benchmarks of the delivery engine; each prints its figures, the last line JSON.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// A command's failure: printed as `error: …` with its causes.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Message(String),
    #[error(transparent)]
    Start(#[from] crate::app::StartError),
    #[error(transparent)]
    Portable(#[from] crate::portable::PortableError),
}

impl CliError {
    fn msg(text: impl Into<String>) -> CliError {
        CliError::Message(text.into())
    }
}

/// Runs the command line and returns the process's exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", crate::error_chain(&e).trim_end());
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    // Benchmarks configure the Heralds they start themselves.
    if let Command::Bench(command) = cli.command {
        return bench::run(command).await;
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) if matches!(cli.command, Command::Doctor) => return Err(doctor::config_failed(&e)),
        Err(e) => return Err(e.into()),
    };
    init_logging(&config);
    match cli.command {
        Command::Serve(args) => serve::serve(config, args).await,
        Command::Worker => serve::worker(config).await,
        Command::Migrate => migrate::migrate(config).await,
        Command::Channel(command) => channel::run(config, command).await,
        Command::Token(command) => token::run(config, command).await,
        Command::User(command) => user::run(config, command).await,
        Command::Source(command) => source::run(config, command).await,
        Command::Deliveries(command) => deliveries::run(config, command).await,
        Command::Domains(command) => moderation::domains(config, command).await,
        Command::Reports(args) => moderation::reports(config, args).await,
        Command::Backup(args) => backup::backup(config, args).await,
        Command::Export(args) => export::export(config, args).await,
        Command::Import(args) => import::import(config, args).await,
        Command::Doctor => doctor::doctor(config).await,
        Command::Bench(_) => Ok(()),
    }
}

/// Logs to stderr with the configured filter. activitypub_federation logs the URLs it
/// fetches at info level (which name readers), so it is held to warnings by default.
fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(format!(
        "activitypub_federation=warn,sqlx=warn,sea_orm_migration=warn,{}",
        config.log
    ))
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log_json {
        builder.json().with_current_span(true).try_init()
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init()
    };
}

/// Opens and migrates the database, for commands that need nothing else.
async fn open_db(config: &Config) -> Result<crate::db::DatabaseConnection, CliError> {
    let db = crate::db::connect_with(config.database_url.expose(), config.database.pool())
        .await
        .map_err(|e| {
            CliError::msg(format!(
                "database_url: cannot connect: {}",
                crate::error_chain(&e)
            ))
        })?;
    crate::db::migrate(&db).await.map_err(|e| {
        CliError::msg(format!(
            "cannot migrate the database: {}",
            crate::error_chain(&e)
        ))
    })?;
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
