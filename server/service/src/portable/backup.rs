//! `herald backup`: a consistent copy of a running instance in a new directory.
//!
//! The database comes first (an SQLite snapshot, or PostgreSQL's `pg_dump`), then the
//! media directory: media files are written once under a new name and never changed, so
//! every file the snapshot refers to is already there to copy. Then the token secret, and
//! a `MANIFEST.txt` that says what was written and how to restore it.

use super::PortableError;
use crate::{config::Config, db};
use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};
use url::Url;

/// What a backup wrote: the text of its `MANIFEST.txt`.
#[derive(Debug)]
pub struct BackupReport {
    pub manifest: String,
}

/// Where the database lives, as far as a backup is concerned.
enum Database {
    Sqlite(PathBuf),
    Postgres(Url),
}

/// Backs the instance `config` describes up into `dir`, which must be new or empty.
pub async fn backup(config: &Config, dir: &Path) -> Result<BackupReport, PortableError> {
    let database = database(config)?;
    prepare(dir)?;
    let mut contents = Vec::new();
    let restore_database = match &database {
        Database::Sqlite(file) => {
            let target = dir.join("herald.db");
            let db = db::connect(config.database_url.expose()).await?;
            db::snapshot_sqlite(&db, &target).await?;
            let _ = db.close().await;
            private(&target)?;
            contents.push(format!(
                "herald.db     {:>12} bytes  snapshot of {} (SQLite VACUUM INTO)",
                size(&target)?,
                file.display()
            ));
            format!(
                "Copy herald.db to {0}, and delete {0}-wal and {0}-shm if they exist \
                 (they belong to the old database).",
                file.display()
            )
        }
        Database::Postgres(url) => {
            let target = dir.join("herald.pgdump");
            let dump = PgDump::new(url, &target);
            dump.run().await?;
            private(&target)?;
            contents.push(format!(
                "herald.pgdump {:>12} bytes  pg_dump --format=custom of {}",
                size(&target)?,
                dump.shown
            ));
            format!(
                "Restore the database into an empty one with\n       {}\n     \
                 (add --clean --if-exists to replace the tables of an existing database).",
                dump.restore_command()
            )
        }
    };

    let (files, bytes) = copy_media(&config.posts.media_dir, &dir.join("media"))?;
    contents.push(format!(
        "media/        {bytes:>12} bytes  {files} file(s) from {}",
        config.posts.media_dir.display()
    ));
    let secret = config.jwt_secret_file();
    let secret_step = if config.jwt_secret.is_some() {
        contents.push(
            "(jwt.secret   not copied: jwt_secret is set in the configuration; keep that)"
                .to_string(),
        );
        None
    } else if secret.is_file() {
        let target = dir.join("jwt.secret");
        std::fs::copy(&secret, &target)
            .map_err(|e| PortableError::io("cannot copy", &secret, e))?;
        private(&target)?;
        contents.push(format!(
            "jwt.secret    {:>12} bytes  the API token secret (issued tokens stay valid)",
            size(&target)?
        ));
        Some(format!(
            "Copy jwt.secret to {} (API tokens issued before stay valid).",
            secret.display()
        ))
    } else {
        None
    };

    let mut manifest = String::new();
    let _ = writeln!(manifest, "Herald backup");
    let _ = writeln!(manifest, "  herald version  {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(
        manifest,
        "  taken at        {}",
        chrono::Utc::now().to_rfc3339()
    );
    let _ = writeln!(manifest, "  domain          {}", config.domain);
    let _ = writeln!(manifest, "\nContents of {}", dir.display());
    for line in &contents {
        let _ = writeln!(manifest, "  {line}");
    }
    let _ = writeln!(
        manifest,
        "\nThe backup holds every channel's private key: keep it as private as the server."
    );
    let _ = writeln!(
        manifest,
        "Redis is not backed up: Herald rebuilds its delivery queue from the database.\n"
    );
    let mut steps = vec![
        "Stop Herald (herald serve, and every herald worker).".to_string(),
        restore_database,
        format!(
            "Copy the files in media/ into {}.",
            config.posts.media_dir.display()
        ),
    ];
    steps.extend(secret_step);
    steps.push(format!(
        "Start Herald with the same domain ({}): followers keep following.",
        config.domain
    ));
    let _ = writeln!(manifest, "To restore:");
    for (n, step) in steps.iter().enumerate() {
        let _ = writeln!(manifest, "  {}. {step}", n + 1);
    }
    let path = dir.join("MANIFEST.txt");
    std::fs::write(&path, &manifest).map_err(|e| PortableError::io("cannot write", &path, e))?;
    Ok(BackupReport { manifest })
}

fn database(config: &Config) -> Result<Database, PortableError> {
    let url = config.database_url.expose();
    if db::is_sqlite(url) {
        let file = db::sqlite_database_file(url).ok_or_else(|| {
            PortableError::Refused("database_url is an in-memory SQLite database".into())
        })?;
        if !file.is_file() {
            return Err(PortableError::Refused(format!(
                "there is no database at {} (is database_url right?)",
                file.display()
            )));
        }
        return Ok(Database::Sqlite(file));
    }
    match Url::parse(url) {
        Ok(url) if matches!(url.scheme(), "postgres" | "postgresql") => Ok(Database::Postgres(url)),
        _ => Err(PortableError::Refused(
            "database_url is neither SQLite nor PostgreSQL".into(),
        )),
    }
}

/// Creates `dir` (private to its owner), or accepts it when it exists and is empty.
fn prepare(dir: &Path) -> Result<(), PortableError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(PortableError::Refused(format!(
                    "{} is not empty; back up into a new or empty directory",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| PortableError::io("cannot create", dir, e))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| PortableError::io("cannot protect", dir, e))?;
            }
            Ok(())
        }
        Err(e) => Err(PortableError::io("cannot read", dir, e)),
    }
}

/// Makes a file readable by its owner only: it holds keys or secrets.
fn private(path: &Path) -> Result<(), PortableError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| PortableError::io("cannot protect", path, e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn size(path: &Path) -> Result<u64, PortableError> {
    Ok(std::fs::metadata(path)
        .map_err(|e| PortableError::io("cannot read", path, e))?
        .len())
}

/// Copies the stored media files (not unfinished `.…part` uploads) from `from` into `to`;
/// returns (files, bytes).
fn copy_media(from: &Path, to: &Path) -> Result<(u64, u64), PortableError> {
    std::fs::create_dir_all(to).map_err(|e| PortableError::io("cannot create", to, e))?;
    let entries = match std::fs::read_dir(from) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(PortableError::io("cannot read", from, e)),
    };
    let (mut files, mut bytes) = (0, 0);
    for entry in entries {
        let entry = entry.map_err(|e| PortableError::io("cannot read", from, e))?;
        let name = entry.file_name();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !is_file || name.to_string_lossy().starts_with('.') {
            continue;
        }
        bytes += std::fs::copy(entry.path(), to.join(&name))
            .map_err(|e| PortableError::io("cannot copy", &entry.path(), e))?;
        files += 1;
    }
    Ok((files, bytes))
}

/// `pg_dump` of a PostgreSQL database, with the password passed in `PGPASSWORD` (never
/// on the command line, where `ps` shows it, nor in any output).
struct PgDump {
    /// The database URL without its password, as shown to the operator.
    shown: String,
    password: Option<String>,
    target: PathBuf,
}

impl PgDump {
    fn new(url: &Url, target: &Path) -> PgDump {
        let mut shown = url.clone();
        let password = url.password().map(percent_decode);
        let _ = shown.set_password(None);
        PgDump {
            shown: shown.to_string(),
            password,
            target: target.to_path_buf(),
        }
    }

    fn command(&self) -> String {
        format!(
            "pg_dump --format=custom --file {} '{}'",
            self.target.display(),
            self.shown
        )
    }

    fn restore_command(&self) -> String {
        format!(
            "pg_restore --no-owner --dbname '{}' herald.pgdump",
            self.shown
        )
    }

    /// The guidance when Herald cannot run `pg_dump` itself.
    fn guidance(&self) -> String {
        let password = if self.password.is_some() {
            " (with the database password in PGPASSWORD)"
        } else {
            ""
        };
        format!(
            "PostgreSQL is backed up with its own tools. Run{password}\n  {}\n\
             then copy the media directory and the token secret yourself; or install \
             PostgreSQL's client tools (the server's major version or newer; Debian: \
             apt install postgresql-client) and run herald backup again.\n\
             To restore, with Herald stopped, into an empty database:\n  {}",
            self.command(),
            self.restore_command()
        )
    }

    async fn run(&self) -> Result<(), PortableError> {
        let mut command = tokio::process::Command::new("pg_dump");
        command
            .arg("--format=custom")
            .arg("--file")
            .arg(&self.target)
            .arg(&self.shown)
            .stdin(std::process::Stdio::null());
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", password);
        }
        let output = match command.output().await {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(PortableError::Tool(format!(
                    "pg_dump is not installed (or not on PATH), so the database was not backed up.\n{}",
                    self.guidance()
                )))
            }
            Err(e) => {
                return Err(PortableError::Tool(format!(
                    "cannot run pg_dump: {e}\n{}",
                    self.guidance()
                )))
            }
        };
        if !output.status.success() {
            let _ = std::fs::remove_file(&self.target);
            return Err(PortableError::Tool(format!(
                "pg_dump failed ({}): {}\nThe command was: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim(),
                self.command()
            )));
        }
        Ok(())
    }
}

/// Decodes `%XX` escapes (a URL's password is percent-encoded); anything else is kept.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_decoded_and_never_shown() {
        assert_eq!(percent_decode("p%40ss%2Fw%3Ard"), "p@ss/w:rd");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        let url = Url::parse("postgres://herald:hunter%402@db.example:5433/herald").unwrap();
        let dump = PgDump::new(&url, Path::new("/backups/x/herald.pgdump"));
        assert_eq!(dump.password.as_deref(), Some("hunter@2"));
        assert_eq!(
            dump.command(),
            "pg_dump --format=custom --file /backups/x/herald.pgdump \
             'postgres://herald@db.example:5433/herald'"
        );
        assert!(!dump.guidance().contains("hunter"), "{}", dump.guidance());
        assert!(!dump.restore_command().contains("hunter"));
    }

    #[test]
    fn a_backup_goes_into_a_new_or_empty_directory_only() {
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("new/nested");
        prepare(&fresh).unwrap();
        assert!(fresh.is_dir());
        prepare(&fresh).unwrap();
        std::fs::write(fresh.join("x"), "x").unwrap();
        let refused = prepare(&fresh).unwrap_err().to_string();
        assert!(refused.contains("is not empty"), "{refused}");
    }
}
