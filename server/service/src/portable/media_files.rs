//! Media files an import writes, all or none.

use super::PortableError;
use std::path::{Path, PathBuf};

/// Media files written by an import, removed again when the import fails (dropped
/// without [`WrittenFiles::keep`]).
pub(super) struct WrittenFiles {
    dir: PathBuf,
    written: Vec<PathBuf>,
    kept: bool,
}

impl WrittenFiles {
    pub(super) fn new(dir: &Path) -> Result<WrittenFiles, PortableError> {
        std::fs::create_dir_all(dir).map_err(|e| PortableError::io("cannot create", dir, e))?;
        Ok(WrittenFiles {
            dir: dir.to_path_buf(),
            written: Vec::new(),
            kept: false,
        })
    }

    /// Writes `name` whole (a temporary name, then a rename). A file already there with
    /// the same bytes (this channel's, before a wipe) is left as it is.
    pub(super) fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), PortableError> {
        let path = self.dir.join(name);
        match std::fs::read(&path) {
            Ok(existing) if existing == bytes => return Ok(()),
            Ok(_) => {
                return Err(PortableError::Refused(format!(
                    "{} already exists with other content; nothing was imported",
                    path.display()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(PortableError::io("cannot read", &path, e)),
        }
        let part = self.dir.join(format!(".{name}.part"));
        std::fs::write(&part, bytes).map_err(|e| PortableError::io("cannot write", &part, e))?;
        std::fs::rename(&part, &path).map_err(|e| PortableError::io("cannot write", &path, e))?;
        self.written.push(path);
        Ok(())
    }

    pub(super) fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for WrittenFiles {
    fn drop(&mut self) {
        if !self.kept {
            for path in &self.written {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}
