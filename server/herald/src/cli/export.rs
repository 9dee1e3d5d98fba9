//! `herald export CHANNEL FILE`.

use super::{channel::find, open_db, CliError};
use crate::{config::Config, portable};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The channel's name (the part before the @ in its handle).
    #[arg(value_name = "CHANNEL")]
    channel: String,
    /// The archive to write; it must not exist yet.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

pub async fn export(config: Config, args: ExportArgs) -> Result<(), CliError> {
    let db = open_db(&config).await?;
    let channel = find(&db, &args.channel).await?;
    let report = portable::export_channel(&config, &db, channel.id, &args.file).await?;
    let counts = report.counts;
    println!(
        "exported @{}@{} to {} ({} bytes): {} post(s), {} media file(s), {} follower(s)",
        channel.name,
        config.domain,
        args.file.display(),
        report.bytes,
        counts.posts,
        counts.media,
        counts.followers
    );
    println!(
        "{} holds the channel's private key: whoever has it can post as the channel. Keep it secret.",
        args.file.display()
    );
    Ok(())
}
