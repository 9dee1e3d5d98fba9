//! The channel archive: one file of JSON Lines, one record per line, each an object whose
//! `record` field names its kind. Written and read a line at a time, so a channel with
//! many images never has to fit in memory.
//!
//! ```text
//! {"record":"manifest", "format":"herald-channel-archive", "format_version":1, …, "counts":{…}}
//! {"record":"channel", "name":"news", …, "public_key_pem":"…", "private_key_pem":"…"}
//! {"record":"media", "id":"…", "file_name":"….jpg", …, "data":"<base64>"}     (one per medium)
//! {"record":"post", "id":"…", "source":"…", "content_html":"…", "media":["…"], …}  (one per post)
//! {"record":"follower", "actor":"https://…", "inbox":"…", …}                   (one per follower)
//! ```
//!
//! The manifest comes first and the channel second; the manifest's counts let an import
//! notice a truncated file. Times are RFC 3339 in UTC; ids are the UUIDs Herald's URLs use
//! (`/posts/{id}`, `/media/{id}.{ext}`). The channel record holds its private key: an
//! archive is as secret as the server's database.

use super::PortableError;
use crate::db::{InteractionPolicy, ProfileField, Visibility};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::{
    fs::File,
    io::{BufRead, BufReader, BufWriter, Write},
    path::{Path, PathBuf},
};
use url::Url;
use uuid::Uuid;

/// The `format` of every channel archive.
pub const FORMAT: &str = "herald-channel-archive";

/// The version of the record layout below; an import refuses versions it does not know.
pub const FORMAT_VERSION: u32 = 1;

/// One line of an archive.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    Manifest(Manifest),
    Channel(Box<ArchivedChannel>),
    Media(Box<ArchivedMedia>),
    Post(Box<ArchivedPost>),
    Follower(Box<ArchivedFollower>),
}

/// What the archive is and where it comes from.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    pub format_version: u32,
    /// The version of the Herald that wrote it.
    pub herald_version: String,
    /// The exporting Herald's domain (host, and port when not 443).
    pub source_domain: String,
    /// Its base URL (`https://DOMAIN`, `http` in debug mode): the ids in the archive, and
    /// the links in posts' HTML, start with it.
    pub source_base_url: Url,
    pub exported_at: DateTime<Utc>,
    /// How many records of each kind follow.
    pub counts: Counts,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub media: usize,
    pub posts: usize,
    pub followers: usize,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} media, {} post(s), {} follower(s)",
            self.media, self.posts, self.followers
        )
    }
}

/// The channel: profile, settings and signing keys.
#[derive(Debug, Serialize, Deserialize)]
pub struct ArchivedChannel {
    /// The handle's local part; with the domain it makes the actor id `/channels/{name}`.
    pub name: String,
    pub display_name: String,
    /// Markdown.
    pub summary: String,
    pub fields: Vec<ProfileField>,
    /// The ids of media records used as avatar and header.
    pub avatar: Option<Uuid>,
    pub header: Option<Uuid>,
    /// Who may reply, quote and boost by default.
    pub policy: InteractionPolicy,
    pub default_language: Option<String>,
    /// Shown as automated (an ActivityPub `Service`).
    pub bot: bool,
    pub manually_approves: bool,
    /// Posts carry their author's name (absent in archives before 0.x: off).
    #[serde(default)]
    pub sign_posts: bool,
    /// The channel's other accounts (absent in older archives: none).
    #[serde(default)]
    pub also_known_as: Vec<String>,
    #[serde(default)]
    pub moved_to: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The RSA key pair, PEM: followers' servers know the actor by this public key.
    pub public_key_pem: String,
    pub private_key_pem: String,
}

/// An uploaded file with its description.
#[derive(Debug, Serialize, Deserialize)]
pub struct ArchivedMedia {
    pub id: Uuid,
    /// `{id}.{ext}`, with ext one of jpg, png, webp, gif.
    pub file_name: String,
    pub media_type: String,
    /// Bytes of the file.
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub blurhash: Option<String>,
    /// Alt text.
    pub description: Option<String>,
    /// Focal point (x, y), each in −1…1.
    pub focus: (f64, f64),
    pub created_at: DateTime<Utc>,
    /// The file itself, base64 (standard alphabet, padded).
    pub data: String,
}

/// A post in whatever state it is stored: published, scheduled, or deleted (a tombstone).
#[derive(Debug, Serialize, Deserialize)]
pub struct ArchivedPost {
    /// With the domain it makes the Note id `/posts/{id}`.
    pub id: Uuid,
    /// The owner's Markdown.
    pub source: String,
    /// The sanitized HTML that federates.
    pub content_html: String,
    /// Content warning.
    pub summary: Option<String>,
    pub language: Option<String>,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub created_at: DateTime<Utc>,
    /// `None` while scheduled.
    pub published_at: Option<DateTime<Utc>>,
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The last edit.
    pub updated_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub pinned_at: Option<DateTime<Utc>>,
    /// ActivityStreams `tag` objects (Hashtag, Mention).
    pub tags: Vec<Value>,
    /// Actor ids of the people it mentions.
    pub mentions: Vec<String>,
    /// Overrides the channel's interaction policy.
    pub policy: Option<InteractionPolicy>,
    /// Ids of its attachments (media records), in order.
    pub media: Vec<Uuid>,
    /// The author's name signed under it (also in `content_html`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A remote actor following the channel.
#[derive(Debug, Serialize, Deserialize)]
pub struct ArchivedFollower {
    /// The follower's actor id.
    pub actor: Url,
    pub inbox: Url,
    pub shared_inbox: Option<Url>,
    /// The follower's key, as last fetched.
    pub public_key_pem: String,
    pub key_id: Option<String>,
    pub also_known_as: Vec<String>,
    pub fetched_at: DateTime<Utc>,
    /// Where deliveries to it go (its shared inbox when it has one).
    pub target_inbox: String,
    /// The id of its `Follow` activity.
    pub follow_uri: String,
    pub followed_at: DateTime<Utc>,
    /// A request still waiting for the owner's approval.
    pub pending: bool,
}

/// Writes an archive to `FILE.part`, renamed to `FILE` once complete; an unfinished
/// archive is removed when the writer is dropped, so `FILE` is always whole.
pub struct ArchiveWriter {
    out: BufWriter<File>,
    part: PathBuf,
    path: PathBuf,
    finished: bool,
}

impl ArchiveWriter {
    /// Starts `path`, readable by its owner only (it holds a private key). Refuses an
    /// existing file.
    pub fn create(path: &Path) -> Result<ArchiveWriter, PortableError> {
        if path.exists() {
            return Err(PortableError::Refused(format!(
                "{} already exists; choose a new file name",
                path.display()
            )));
        }
        let mut part = path.as_os_str().to_owned();
        part.push(".part");
        let part = PathBuf::from(part);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&part)
            .map_err(|e| PortableError::io("cannot create", &part, e))?;
        Ok(ArchiveWriter {
            out: BufWriter::new(file),
            part,
            path: path.to_path_buf(),
            finished: false,
        })
    }

    pub fn write(&mut self, record: &Record) -> Result<(), PortableError> {
        serde_json::to_writer(&mut self.out, record)
            .map_err(|e| PortableError::io("cannot write", &self.part, e.into()))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| PortableError::io("cannot write", &self.part, e))
    }

    /// Flushes the archive to disk and gives it its name; returns its size in bytes.
    pub fn finish(mut self) -> Result<u64, PortableError> {
        let written = self
            .out
            .flush()
            .and_then(|()| self.out.get_ref().sync_all())
            .and_then(|()| self.out.get_ref().metadata());
        let size = written
            .map_err(|e| PortableError::io("cannot write", &self.part, e))?
            .len();
        std::fs::rename(&self.part, &self.path)
            .map_err(|e| PortableError::io("cannot rename to", &self.path, e))?;
        self.finished = true;
        Ok(size)
    }
}

impl Drop for ArchiveWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

/// Reads an archive a record at a time, naming the line of anything it cannot read.
pub struct ArchiveReader {
    input: BufReader<File>,
    path: PathBuf,
    line: usize,
}

impl ArchiveReader {
    pub fn open(path: &Path) -> Result<ArchiveReader, PortableError> {
        let file = File::open(path).map_err(|e| PortableError::io("cannot open", path, e))?;
        Ok(ArchiveReader {
            input: BufReader::new(file),
            path: path.to_path_buf(),
            line: 0,
        })
    }

    /// The next record, or `None` at the end of the file. Blank lines are skipped.
    pub fn next_record(&mut self) -> Result<Option<Record>, PortableError> {
        let mut text = String::new();
        loop {
            text.clear();
            self.line += 1;
            let read = self.input.read_line(&mut text).map_err(|e| {
                if e.kind() == std::io::ErrorKind::InvalidData {
                    self.invalid("not UTF-8 text")
                } else {
                    PortableError::io("cannot read", &self.path, e)
                }
            })?;
            if read == 0 {
                return Ok(None);
            }
            if !text.trim().is_empty() {
                break;
            }
        }
        serde_json::from_str(text.trim_end())
            .map(Some)
            .map_err(|e| self.invalid(&e.to_string()))
    }

    /// The manifest, which must be the first record, checked for format and version.
    pub fn manifest(&mut self) -> Result<Manifest, PortableError> {
        let manifest = match self.next_record() {
            Ok(Some(Record::Manifest(manifest))) => manifest,
            Ok(_) | Err(PortableError::Invalid(_)) => {
                return Err(PortableError::Invalid(format!(
                    "{} is not a Herald channel archive (it does not start with a manifest; \
                     archives are written by `herald export`)",
                    self.path.display()
                )))
            }
            Err(e) => return Err(e),
        };
        if manifest.format != FORMAT {
            return Err(self.invalid(&format!(
                "the format is `{}`, not `{FORMAT}`",
                manifest.format
            )));
        }
        if manifest.format_version != FORMAT_VERSION {
            return Err(self.invalid(&format!(
                "archive format version {} is not supported by this Herald (which reads \
                 version {FORMAT_VERSION}; it was written by Herald {})",
                manifest.format_version, manifest.herald_version
            )));
        }
        Ok(manifest)
    }

    /// The channel, which must be the second record.
    pub fn channel(&mut self) -> Result<ArchivedChannel, PortableError> {
        match self.next_record()? {
            Some(Record::Channel(channel)) => Ok(*channel),
            _ => Err(self.invalid("the channel record must follow the manifest")),
        }
    }

    /// An error about the line just read.
    pub fn invalid(&self, problem: &str) -> PortableError {
        PortableError::Invalid(format!(
            "{} is not a valid channel archive: line {}: {problem}",
            self.path.display(),
            self.line
        ))
    }
}
