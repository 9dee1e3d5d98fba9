//! `herald import FILE [--name NAME]`.

use super::{open_db, CliError};
use crate::{config::Config, db::ChannelName, federation::Urls, portable};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// An archive written by `herald export`.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Import the channel under this name instead of the archive's. A new name means new
    /// addresses, so followers are not imported.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
}

pub async fn import(config: Config, args: ImportArgs) -> Result<(), CliError> {
    let name = args
        .name
        .as_deref()
        .map(ChannelName::parse)
        .transpose()
        .map_err(|e| CliError::msg(format!("--name: {e}")))?;
    let urls = Urls::new(&config).map_err(|e| CliError::msg(format!("domain: {e}")))?;
    let db = open_db(&config).await?;
    let report = portable::import_channel(&config, &db, &args.file, name).await?;
    let channel = &report.channel;
    let counts = report.counts;
    println!(
        "imported @{}@{} from {}",
        channel.name,
        urls.authority(),
        args.file.display()
    );
    println!(
        "  posts:     {} ({} scheduled)",
        counts.posts, report.scheduled
    );
    println!("  media:     {}", counts.media);
    println!("  followers: {}", counts.followers);
    println!("  actor:     {}", urls.channel(&channel.name));
    if report.kept_ids {
        println!("Every id is kept: followers' servers see the same actor and posts.");
    } else {
        eprintln!(
            "warning: the channel has new addresses here (@{}@{}; it was @{}@{}).",
            channel.name,
            urls.authority(),
            report.source_name,
            report.source_domain
        );
        eprintln!(
            "warning: followers on other servers still follow the old actor and will not \
             follow this one automatically; moving them needs a Move activity from the old \
             actor, which import does not send."
        );
        eprintln!(
            "warning: {} follower(s) in the archive were not imported.",
            report.followers_left
        );
    }
    if report.overdue > 0 {
        eprintln!(
            "note: {} scheduled post(s) are already due; Herald publishes them to followers \
             as soon as it runs.",
            report.overdue
        );
    }
    Ok(())
}
