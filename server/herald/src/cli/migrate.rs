//! `herald migrate`.

use super::{open_db, CliError};
use crate::config::Config;

pub async fn migrate(config: Config) -> Result<(), CliError> {
    open_db(&config).await?;
    println!("the database is up to date");
    Ok(())
}
