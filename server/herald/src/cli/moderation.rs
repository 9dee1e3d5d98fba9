//! `herald domains …` and `herald reports`: the operator's moderation. Blocks are
//! instance-wide unless `--channel` names one channel.

use super::{open_db, CliError};
use crate::{
    app::Herald,
    config::Config,
    db::{self, Channel, DbError},
    moderation,
};
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum DomainsCommand {
    /// Block a domain and its subdomains: its followers are removed, its requests and
    /// signed fetches refused, and nothing is delivered there.
    Block {
        /// e.g. `spam.example` (a URL works too; its host is taken).
        domain: String,
        #[command(flatten)]
        scope: Scope,
        /// Why, for the record.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Lift a block.
    Unblock {
        domain: String,
        #[command(flatten)]
        scope: Scope,
    },
    /// List the blocks (instance-wide, or one channel's).
    List {
        #[command(flatten)]
        scope: Scope,
    },
}

#[derive(Args, Debug)]
pub struct Scope {
    /// One channel's block rather than instance-wide.
    #[arg(long, value_name = "NAME")]
    channel: Option<String>,
}

#[derive(Args, Debug)]
pub struct ReportsArgs {
    /// Only reports about this channel.
    #[arg(long, value_name = "NAME")]
    channel: Option<String>,
}

fn fail(e: impl std::error::Error + 'static) -> CliError {
    CliError::msg(crate::error_chain(&e))
}

async fn channel(
    db: &impl crate::db::ConnectionTrait,
    name: Option<&str>,
) -> Result<Option<Channel>, CliError> {
    let Some(name) = name else { return Ok(None) };
    match db::channel_by_name(db, name).await {
        Ok(channel) => Ok(Some(channel)),
        Err(DbError::NotFound) => Err(CliError::msg(format!("no channel named `{name}`"))),
        Err(e) => Err(fail(e)),
    }
}

fn scope_label(channel: Option<&Channel>) -> String {
    channel.map_or_else(
        || "instance-wide".to_string(),
        |c| format!("for channel {}", c.name),
    )
}

pub async fn domains(config: Config, command: DomainsCommand) -> Result<(), CliError> {
    match command {
        DomainsCommand::Block {
            domain,
            scope,
            reason,
        } => {
            // Blocking removes followers; it needs the whole state (not the queue yet, but
            // a later Reject might).
            let herald = Herald::start(config).await?;
            let state = &herald.state;
            let channel = channel(&state.db, scope.channel.as_deref()).await?;
            let (block, removed) =
                moderation::block_domain(state, &domain, channel.as_ref(), reason)
                    .await
                    .map_err(fail)?;
            println!(
                "blocked {} {} ({removed} followers removed)",
                block.domain,
                scope_label(channel.as_ref())
            );
        }
        DomainsCommand::Unblock { domain, scope } => {
            let herald = Herald::start(config).await?;
            let state = &herald.state;
            let channel = channel(&state.db, scope.channel.as_deref()).await?;
            if !moderation::unblock_domain(state, &domain, channel.as_ref())
                .await
                .map_err(fail)?
            {
                return Err(CliError::msg(format!(
                    "`{domain}` is not blocked {}",
                    scope_label(channel.as_ref())
                )));
            }
            println!("unblocked {domain} {}", scope_label(channel.as_ref()));
        }
        DomainsCommand::List { scope } => {
            let db = open_db(&config).await?;
            let channel = channel(&db, scope.channel.as_deref()).await?;
            for block in db::list_domain_blocks(&db, channel.as_ref().map(|c| c.id))
                .await
                .map_err(fail)?
            {
                println!(
                    "{}\t{}\t{}",
                    block.domain,
                    block.created_at.to_rfc3339(),
                    block.reason.unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

pub async fn reports(config: Config, args: ReportsArgs) -> Result<(), CliError> {
    let db = open_db(&config).await?;
    let channel = channel(&db, args.channel.as_deref()).await?;
    let reports = db::list_reports(&db, channel.as_ref().map(|c| c.id))
        .await
        .map_err(fail)?;
    let names: std::collections::HashMap<_, _> = db::list_channels(&db)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|c| (c.id, c.name.to_string()))
        .collect();
    for report in reports {
        let about = report
            .channel_id
            .and_then(|id| names.get(&id).cloned())
            .unwrap_or_else(|| "-".into());
        println!(
            "{}\t{}\tfrom {}\tabout {about}\t{}\t{}",
            report.id,
            report.created_at.to_rfc3339(),
            report.authority,
            report.objects.join(" "),
            report.content.replace(['\n', '\t'], " ")
        );
    }
    Ok(())
}
