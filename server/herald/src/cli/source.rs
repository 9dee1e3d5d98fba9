//! `herald source …`: the feeds a channel mirrors.

use super::{channel::find, open_db, CliError};
use crate::{
    config::Config,
    db::{self, Actor, AuditAction, DbError, SourceId},
    sources::{self, SourceError, SourceInput},
};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum SourceCommand {
    /// Subscribe channel NAME to the feed at URL (Atom, RSS or JSON Feed).
    ///
    /// The URL is fetched once to check that it is a feed. The first poll posts the newest
    /// entry (`sources.initial_entries`); after that, each new entry is posted once.
    Add {
        name: String,
        url: String,
        /// How an entry becomes a post: `{title}`, `{link}`, `{summary}`, `{content}`,
        /// `{hashtags}` (Markdown).
        #[arg(long, value_name = "TEXT")]
        template: Option<String>,
        /// Seconds between polls (at least 60). Default: `sources.interval_secs`.
        #[arg(long, value_name = "SECS")]
        interval: Option<u32>,
        /// Entries the first poll posts. Default: `sources.initial_entries`.
        #[arg(long, value_name = "N")]
        initial: Option<u32>,
    },
    /// List channel NAME's sources and how their polls went.
    List { name: String },
    /// Unsubscribe from source ID (its posts stay).
    Remove { id: i64 },
}

fn failed(e: impl std::error::Error + 'static) -> CliError {
    CliError::msg(crate::error_chain(&e))
}

pub async fn run(config: Config, command: SourceCommand) -> Result<(), CliError> {
    let db = open_db(&config).await?;
    match command {
        SourceCommand::Add {
            name,
            url,
            template,
            interval,
            initial,
        } => {
            let channel = find(&db, &name).await?;
            let input = SourceInput {
                url,
                template,
                interval_secs: interval,
                initial_entries: initial,
                max_per_poll: None,
            };
            let source = sources::add_source(&db, &config, &channel, &Actor::CommandLine, input)
                .await
                .map_err(|e| match e {
                    SourceError::Db(e) => failed(e),
                    other => CliError::msg(other.to_string()),
                })?;
            println!("source {} of {}: {}", source.id.0, channel.name, source.url);
        }
        SourceCommand::List { name } => {
            let channel = find(&db, &name).await?;
            println!("ID\tURL\tNEXT POLL\tFAILURES\tLAST ERROR");
            for s in db::sources_of(&db, channel.id).await.map_err(failed)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    s.id.0,
                    s.url,
                    s.next_poll_at.to_rfc3339(),
                    s.failures,
                    s.last_error.as_deref().unwrap_or("-")
                );
            }
        }
        SourceCommand::Remove { id } => {
            let source = db::source_by_id(&db, SourceId(id))
                .await
                .map_err(|e| match e {
                    DbError::NotFound => {
                        CliError::msg(format!("no source {id} (see `herald source list NAME`)"))
                    }
                    other => failed(other),
                })?;
            db::delete_source(&db, source.id).await.map_err(failed)?;
            if let Ok(channel) = db::channel_by_id(&db, source.channel_id).await {
                crate::people::audit(
                    &db,
                    &channel,
                    &Actor::CommandLine,
                    AuditAction::SourceRemoved,
                    &source.url,
                )
                .await;
            }
            println!("removed source {id}");
        }
    }
    Ok(())
}
