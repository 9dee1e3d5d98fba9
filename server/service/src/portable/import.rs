//! `herald import`: a channel archive brought up on this Herald.
//!
//! When this Herald has the archive's base URL and the channel keeps its name, every id is
//! kept (actor, Notes, media URLs), so followers' servers see the same actor and posts,
//! and the followers come along. Otherwise the channel starts afresh under new ids with
//! the same keys and content, and without followers: they follow the old actor, and only
//! a `Move` from it could bring them over.

use super::{
    archive::{
        ArchiveReader, ArchivedChannel, ArchivedFollower, ArchivedMedia, ArchivedPost, Counts,
        Record,
    },
    media_files::WrittenFiles,
    PortableError,
};
use crate::{
    config::Config,
    db::{
        self, Channel, ChannelId, ChannelName, ChannelRecords, DatabaseConnection, DbError,
        FollowerRecord, Media, MediaId, PlacedMedia, Post, PostId, RemoteActor, RemoteActorId,
    },
    federation::Urls,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{DateTime, Utc};
use std::{collections::HashMap, path::Path};
use url::Url;
use uuid::Uuid;

/// The file extensions Herald stores media under (see `media::process`).
const MEDIA_EXTENSIONS: [&str; 4] = ["jpg", "png", "webp", "gif"];

/// What an import did.
#[derive(Debug)]
pub struct ImportReport {
    pub channel: Channel,
    /// The exporting Herald's domain.
    pub source_domain: String,
    /// The channel's name there.
    pub source_name: ChannelName,
    /// Ids and URIs are those of the archive (same base URL, same name).
    pub kept_ids: bool,
    /// What was imported.
    pub counts: Counts,
    /// Followers in the archive not imported (they follow the old actor).
    pub followers_left: usize,
    /// Scheduled posts, and how many of them are already due (they go out as soon as
    /// Herald's scheduler runs).
    pub scheduled: usize,
    pub overdue: usize,
}

/// Imports the archive at `file`, as `name` when given: first the media files (removed
/// again on any failure), then every row in one transaction. A name already taken, or
/// an archive that does not check out, changes nothing. Sends nothing to anyone.
pub async fn import_channel(
    config: &Config,
    db: &DatabaseConnection,
    file: &Path,
    name: Option<ChannelName>,
) -> Result<ImportReport, PortableError> {
    let urls = Urls::new(config).map_err(|e| PortableError::Invalid(format!("domain: {e}")))?;
    let mut reader = ArchiveReader::open(file)?;
    let manifest = reader.manifest()?;
    let archived = reader.channel()?;
    let source_name = ChannelName::parse(&archived.name).map_err(|e| reader.invalid(&e))?;
    let name = name.unwrap_or_else(|| source_name.clone());
    let kept_ids = manifest.source_base_url == *urls.base() && name == source_name;
    match db::channel_by_name(db, name.as_str()).await {
        Ok(_) => {
            return Err(PortableError::Refused(format!(
                "a channel named `{name}` already exists here; nothing was imported \
                 (delete it first, or choose another name with --name)"
            )))
        }
        Err(DbError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    check_key_pair(&archived).map_err(|e| reader.invalid(&e))?;

    let mut ids = Ids::new(kept_ids);
    let mut files = WrittenFiles::new(&config.posts.media_dir)?;
    let mut media = Vec::new();
    let mut posts = Vec::new();
    let mut followers = Vec::new();
    let mut followers_left = 0;
    while let Some(record) = reader.next_record()? {
        match record {
            Record::Media(m) => {
                let placed = import_media(*m, &mut ids, &mut files).map_err(|e| match e {
                    PortableError::Invalid(problem) => reader.invalid(&problem),
                    other => other,
                })?;
                media.push(placed);
            }
            Record::Post(p) => posts.push(*p),
            Record::Follower(f) if kept_ids => followers.push(follower_record(*f)),
            Record::Follower(_) => followers_left += 1,
            Record::Manifest(_) | Record::Channel(_) => {
                return Err(reader.invalid("only one manifest and one channel record may appear"))
            }
        }
    }
    let found = Counts {
        media: media.len(),
        posts: posts.len(),
        followers: followers.len() + followers_left,
    };
    if found != manifest.counts {
        return Err(PortableError::Invalid(format!(
            "{} is incomplete: its manifest announces {} but it holds {found} (was it cut short?)",
            file.display(),
            manifest.counts
        )));
    }

    let relink =
        (!kept_ids).then(|| Relink::new(&manifest.source_base_url, &source_name, &urls, &name));
    let places: HashMap<MediaId, usize> = media
        .iter()
        .enumerate()
        .map(|(i, m)| (m.media.id, i))
        .collect();
    let posts = posts
        .into_iter()
        .map(|p| import_post(p, &mut ids, (&mut media, &places), relink.as_ref()))
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| PortableError::Invalid(format!("{}: {e}", file.display())))?;
    let channel = channel_row(archived, name, &ids)
        .map_err(|e| PortableError::Invalid(format!("{}: {e}", file.display())))?;
    let now = Utc::now();
    let waiting = posts
        .iter()
        .filter(|p| p.published_at.is_none() && p.deleted_at.is_none())
        .filter_map(|p| p.scheduled_at);
    let (scheduled, overdue) = waiting.fold((0, 0), |(all, due), at| {
        (all + 1, due + usize::from(at <= now))
    });
    let counts = Counts {
        media: media.len(),
        posts: posts.len(),
        followers: followers.len(),
    };
    let channel = db::import_channel(
        db,
        ChannelRecords {
            channel,
            posts,
            media,
            followers,
        },
    )
    .await
    .map_err(|e| match e {
        DbError::Conflict(detail) => PortableError::Refused(format!(
            "the archive clashes with data already here ({detail}); nothing was imported"
        )),
        other => other.into(),
    })?;
    files.keep();
    Ok(ImportReport {
        channel,
        source_domain: manifest.source_domain,
        source_name,
        kept_ids,
        counts,
        followers_left,
        scheduled,
        overdue,
    })
}

/// The private key must parse and belong to the public key: followers' servers verify the
/// channel's signatures with the public one.
fn check_key_pair(channel: &ArchivedChannel) -> Result<(), String> {
    use openssl::pkey::PKey;
    let private = PKey::private_key_from_pem(channel.private_key_pem.as_bytes())
        .map_err(|e| format!("the channel's private key cannot be read: {e}"))?;
    let public = PKey::public_key_from_pem(channel.public_key_pem.as_bytes())
        .map_err(|e| format!("the channel's public key cannot be read: {e}"))?;
    if !private.public_eq(&public) {
        return Err("the channel's private key does not match its public key".into());
    }
    Ok(())
}

/// The ids rows get here: the archive's when ids are kept, otherwise new UUIDv7s with the
/// same times, so posts still sort by when they were written.
struct Ids {
    keep: bool,
    media: HashMap<Uuid, Uuid>,
    posts: HashMap<Uuid, Uuid>,
}

impl Ids {
    fn new(keep: bool) -> Ids {
        Ids {
            keep,
            media: HashMap::new(),
            posts: HashMap::new(),
        }
    }

    fn assign(&mut self, posts: bool, old: Uuid, at: DateTime<Utc>) -> Result<Uuid, String> {
        let new = if self.keep {
            old
        } else {
            let seconds = u64::try_from(at.timestamp()).unwrap_or(0);
            Uuid::new_v7(uuid::Timestamp::from_unix(
                uuid::NoContext,
                seconds,
                at.timestamp_subsec_nanos(),
            ))
        };
        let map = if posts {
            &mut self.posts
        } else {
            &mut self.media
        };
        match map.insert(old, new) {
            None => Ok(new),
            Some(_) => Err(format!("the id {old} appears twice")),
        }
    }

    fn media(&self, old: Uuid) -> Result<MediaId, String> {
        self.media
            .get(&old)
            .map(|&id| MediaId(id))
            .ok_or_else(|| format!("medium {old} is named but not in the archive"))
    }
}

/// Checks a medium, writes its file to the media directory under its (new) id, and
/// returns its row, not yet attached to a post.
fn import_media(
    m: ArchivedMedia,
    ids: &mut Ids,
    files: &mut WrittenFiles,
) -> Result<PlacedMedia, PortableError> {
    let invalid = |problem: String| PortableError::Invalid(format!("medium {}: {problem}", m.id));
    let extension = match m.file_name.rsplit_once('.') {
        Some((stem, extension))
            if stem == m.id.to_string() && MEDIA_EXTENSIONS.contains(&extension) =>
        {
            extension
        }
        _ => {
            return Err(invalid(format!(
                "`{}` is not a media file name Herald writes",
                m.file_name
            )))
        }
    };
    let bytes = STANDARD
        .decode(&m.data)
        .map_err(|e| invalid(format!("its data is not base64: {e}")))?;
    if bytes.len() as u64 != m.size {
        return Err(invalid(format!(
            "its data has {} bytes, not the {} announced",
            bytes.len(),
            m.size
        )));
    }
    let id = MediaId(ids.assign(false, m.id, m.created_at).map_err(invalid)?);
    let file_name = format!("{id}.{extension}");
    files.write(&file_name, &bytes)?;
    Ok(PlacedMedia {
        media: Media {
            id,
            channel_id: ChannelId(0),
            post_id: None,
            file_name,
            media_type: m.media_type,
            size: m.size,
            width: m.width,
            height: m.height,
            blurhash: m.blurhash,
            description: m.description,
            focus: m.focus,
            created_at: m.created_at,
        },
        position: 0,
    })
}

/// A post's row, with its attachments pointed at it.
fn import_post(
    p: ArchivedPost,
    ids: &mut Ids,
    (media, places): (&mut [PlacedMedia], &HashMap<MediaId, usize>),
    relink: Option<&Relink>,
) -> Result<Post, String> {
    let id = PostId(ids.assign(true, p.id, p.created_at)?);
    for (position, old) in p.media.iter().enumerate() {
        let placed = ids
            .media(*old)
            .ok()
            .and_then(|medium| places.get(&medium))
            .and_then(|&i| media.get_mut(i))
            .ok_or_else(|| format!("post {} names medium {old}, which is missing", p.id))?;
        if placed.media.post_id.is_some() {
            return Err(format!("medium {old} is attached to two posts"));
        }
        placed.media.post_id = Some(id);
        placed.position = u32::try_from(position).unwrap_or(u32::MAX);
    }
    let (content_html, tags) = match relink {
        Some(relink) => (
            relink.html(&p.content_html),
            p.tags.into_iter().map(|t| relink.tag(t)).collect(),
        ),
        None => (p.content_html, p.tags),
    };
    Ok(Post {
        id,
        channel_id: ChannelId(0),
        source: p.source,
        content_html,
        summary: p.summary,
        language: p.language,
        sensitive: p.sensitive,
        visibility: p.visibility,
        created_at: p.created_at,
        published_at: p.published_at,
        scheduled_at: p.scheduled_at,
        updated_at: p.updated_at,
        deleted_at: p.deleted_at,
        pinned_at: p.pinned_at,
        tags,
        mentions: p.mentions,
        policy: p.policy,
        signature: p.signature,
    })
}

fn channel_row(c: ArchivedChannel, name: ChannelName, ids: &Ids) -> Result<Channel, String> {
    Ok(Channel {
        id: ChannelId(0),
        name,
        display_name: c.display_name,
        summary: c.summary,
        bot: c.bot,
        public_key_pem: c.public_key_pem,
        private_key_pem: c.private_key_pem,
        created_at: c.created_at,
        updated_at: c.updated_at,
        fields: c.fields,
        default_language: c.default_language,
        policy: c.policy,
        avatar: c.avatar.map(|m| ids.media(m)).transpose()?,
        header: c.header.map(|m| ids.media(m)).transpose()?,
        manually_approves: c.manually_approves,
        sign_posts: c.sign_posts,
        also_known_as: c.also_known_as,
        moved_to: c.moved_to,
    })
}

fn follower_record(f: ArchivedFollower) -> FollowerRecord {
    FollowerRecord {
        actor: RemoteActor {
            id: RemoteActorId(0),
            authority: db::authority_of(&f.actor),
            uri: f.actor,
            inbox: f.inbox,
            shared_inbox: f.shared_inbox,
            public_key_pem: f.public_key_pem,
            fetched_at: f.fetched_at,
            key_id: f.key_id,
            also_known_as: f.also_known_as,
        },
        target_inbox: f.target_inbox,
        follow_uri: f.follow_uri,
        created_at: f.followed_at,
        pending: f.pending,
    }
}

/// Points hashtag links (in posts' HTML and `tag` objects) at this Herald's pages when the
/// channel moves: they name the channel's page of posts with that tag.
struct Relink {
    from: String,
    to: String,
}

impl Relink {
    fn new(
        source_base: &Url,
        source_name: &ChannelName,
        urls: &Urls,
        name: &ChannelName,
    ) -> Relink {
        let mut from = source_base.clone();
        from.set_path(&format!("/@{source_name}/tags/"));
        Relink {
            from: from.to_string(),
            to: urls.hashtag(name, "").to_string(),
        }
    }

    fn html(&self, html: &str) -> String {
        html.replace(&self.from, &self.to)
    }

    fn tag(&self, mut tag: serde_json::Value) -> serde_json::Value {
        if let Some(href) = tag.get_mut("href") {
            if let Some(rest) = href.as_str().and_then(|h| h.strip_prefix(&self.from)) {
                *href = format!("{}{rest}", self.to).into();
            }
        }
        tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw).unwrap().to_utc()
    }

    #[test]
    fn fresh_ids_sort_by_their_times_and_kept_ids_stay() {
        let mut fresh = Ids::new(false);
        let later = fresh
            .assign(true, Uuid::now_v7(), at("2026-01-01T00:00:00.002Z"))
            .unwrap();
        let earlier = fresh
            .assign(true, Uuid::now_v7(), at("2026-01-01T00:00:00.001Z"))
            .unwrap();
        assert!(earlier < later);
        assert_eq!(later.get_version_num(), 7);
        let old = Uuid::now_v7();
        assert_ne!(fresh.assign(false, old, Utc::now()).unwrap(), old);
        assert!(fresh.assign(false, old, Utc::now()).is_err(), "an id twice");
        assert!(fresh.media(Uuid::now_v7()).is_err(), "an unknown medium");

        let mut kept = Ids::new(true);
        assert_eq!(kept.assign(true, old, Utc::now()).unwrap(), old);
    }

    #[test]
    fn hashtag_links_move_to_the_new_channel_page() {
        let config = Config::from_sources(
            None,
            [("HERALD_DOMAIN".to_string(), "new.example".to_string())],
        )
        .unwrap();
        let urls = Urls::new(&config).unwrap();
        let old_base = Url::parse("https://old.example").unwrap();
        let ceo = ChannelName::parse("ceo").unwrap();
        let news = ChannelName::parse("news").unwrap();
        let relink = Relink::new(&old_base, &ceo, &urls, &news);
        assert_eq!(
            relink.html(
                "<p><a href=\"https://old.example/@ceo/tags/up\" class=\"mention hashtag\">#up</a> \
                 <a href=\"https://old.example/@cfo/tags/up\">other</a></p>"
            ),
            "<p><a href=\"https://new.example/@news/tags/up\" class=\"mention hashtag\">#up</a> \
             <a href=\"https://old.example/@cfo/tags/up\">other</a></p>"
        );
        let tag =
            serde_json::json!({"type": "Hashtag", "href": "https://old.example/@ceo/tags/up"});
        assert_eq!(relink.tag(tag)["href"], "https://new.example/@news/tags/up");
        let mention = serde_json::json!({"type": "Mention", "href": "https://else.example/@bob"});
        assert_eq!(relink.tag(mention.clone()), mention);
    }
}
