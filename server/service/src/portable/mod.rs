//! Moving Herald's data: [`backup`] takes a consistent copy of a whole running instance
//! (database, media, token secret); [`export_channel`] writes one channel with its keys,
//! posts, media and followers to an archive file that [`import_channel`] brings up on
//! another Herald (or on this one after a wipe). The archive format is in [`archive`].
//!
//! Called by `cli`; uses `db`, `config` and federation's URL layout. Nothing here sends
//! anything to other servers.

pub mod archive;
mod backup;
mod export;
mod import;
mod media_files;

pub use backup::{backup, BackupReport};
pub use export::{export_channel, ExportReport};
pub use import::{import_channel, ImportReport};

use crate::db::DbError;
use std::path::Path;

/// What can stop a backup, an export or an import.
#[derive(Debug, thiserror::Error)]
pub enum PortableError {
    /// A file could not be read or written.
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    /// The file is not a Herald channel archive, or a damaged one.
    #[error("{0}")]
    Invalid(String),
    /// The command would overwrite or clash with what is there; nothing was changed.
    #[error("{0}")]
    Refused(String),
    /// The database's own backup tool failed or is missing.
    #[error("{0}")]
    Tool(String),
}

impl PortableError {
    /// An I/O failure on `path`, described by `doing` ("cannot read", "cannot create" …).
    fn io(doing: &str, path: &Path, source: std::io::Error) -> PortableError {
        PortableError::Io {
            context: format!("{doing} {}", path.display()),
            source,
        }
    }
}
