//! `herald backup DIR`.

use super::CliError;
use crate::{config::Config, portable};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The directory to write the backup into; it must not exist yet, or be empty.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

pub async fn backup(config: Config, args: BackupArgs) -> Result<(), CliError> {
    let report = portable::backup(&config, &args.dir).await?;
    print!("{}", report.manifest);
    println!(
        "\n(also written to {})",
        args.dir.join("MANIFEST.txt").display()
    );
    Ok(())
}
