//! `herald export`: one channel to one archive file.

use super::{
    archive::{
        ArchiveWriter, ArchivedChannel, ArchivedFollower, ArchivedMedia, ArchivedPost, Counts,
        Manifest, Record, FORMAT, FORMAT_VERSION,
    },
    PortableError,
};
use crate::{
    config::Config,
    db::{self, Channel, ChannelId, DatabaseConnection, FollowerRecord, PlacedMedia, Post},
    federation::Urls,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use std::{collections::HashMap, path::Path};
use uuid::Uuid;

/// What an export wrote.
#[derive(Debug)]
pub struct ExportReport {
    pub counts: Counts,
    /// The archive's size in bytes.
    pub bytes: u64,
}

/// Writes `channel` with its keys, posts, media files and followers to a new archive at
/// `file`, from one consistent read of the database.
pub async fn export_channel(
    config: &Config,
    db: &DatabaseConnection,
    channel: ChannelId,
    file: &Path,
) -> Result<ExportReport, PortableError> {
    let urls = Urls::new(config).map_err(|e| PortableError::Invalid(format!("domain: {e}")))?;
    let mut out = ArchiveWriter::create(file)?;
    let records = db::channel_records(db, channel).await?;
    let counts = Counts {
        media: records.media.len(),
        posts: records.posts.len(),
        followers: records.followers.len(),
    };
    out.write(&Record::Manifest(Manifest {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        herald_version: env!("CARGO_PKG_VERSION").to_string(),
        source_domain: config.domain.to_string(),
        source_base_url: urls.base().clone(),
        exported_at: chrono::Utc::now(),
        counts,
    }))?;
    out.write(&Record::Channel(Box::new(archived_channel(
        &records.channel,
    ))))?;
    for placed in &records.media {
        let path = config.posts.media_dir.join(&placed.media.file_name);
        let bytes = std::fs::read(&path).map_err(|e| {
            PortableError::io(
                &format!("medium {} has no readable file:", placed.media.id),
                &path,
                e,
            )
        })?;
        out.write(&Record::Media(Box::new(archived_media(placed, &bytes))))?;
    }
    let mut attachments = attachments_by_post(&records.media);
    for post in &records.posts {
        let media = attachments.remove(&post.id.0).unwrap_or_default();
        out.write(&Record::Post(Box::new(archived_post(post, media))))?;
    }
    for follower in &records.followers {
        out.write(&Record::Follower(Box::new(archived_follower(follower))))?;
    }
    let bytes = out.finish()?;
    Ok(ExportReport { counts, bytes })
}

fn archived_channel(c: &Channel) -> ArchivedChannel {
    ArchivedChannel {
        name: c.name.to_string(),
        display_name: c.display_name.clone(),
        summary: c.summary.clone(),
        fields: c.fields.clone(),
        avatar: c.avatar.map(|m| m.0),
        header: c.header.map(|m| m.0),
        policy: c.policy,
        default_language: c.default_language.clone(),
        bot: c.bot,
        manually_approves: c.manually_approves,
        sign_posts: c.sign_posts,
        also_known_as: c.also_known_as.clone(),
        moved_to: c.moved_to.clone(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        public_key_pem: c.public_key_pem.clone(),
        private_key_pem: c.private_key_pem.clone(),
    }
}

fn archived_media(placed: &PlacedMedia, bytes: &[u8]) -> ArchivedMedia {
    let m = &placed.media;
    ArchivedMedia {
        id: m.id.0,
        file_name: m.file_name.clone(),
        media_type: m.media_type.clone(),
        size: bytes.len() as u64,
        width: m.width,
        height: m.height,
        blurhash: m.blurhash.clone(),
        description: m.description.clone(),
        focus: m.focus,
        created_at: m.created_at,
        data: STANDARD.encode(bytes),
    }
}

/// Each post's attachment ids, in order.
fn attachments_by_post(media: &[PlacedMedia]) -> HashMap<Uuid, Vec<Uuid>> {
    let mut placed: Vec<&PlacedMedia> =
        media.iter().filter(|p| p.media.post_id.is_some()).collect();
    placed.sort_by_key(|p| p.position);
    let mut by_post: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for p in placed {
        if let Some(post) = p.media.post_id {
            by_post.entry(post.0).or_default().push(p.media.id.0);
        }
    }
    by_post
}

fn archived_post(p: &Post, media: Vec<Uuid>) -> ArchivedPost {
    ArchivedPost {
        id: p.id.0,
        source: p.source.clone(),
        content_html: p.content_html.clone(),
        summary: p.summary.clone(),
        language: p.language.clone(),
        sensitive: p.sensitive,
        visibility: p.visibility,
        created_at: p.created_at,
        published_at: p.published_at,
        scheduled_at: p.scheduled_at,
        updated_at: p.updated_at,
        deleted_at: p.deleted_at,
        pinned_at: p.pinned_at,
        tags: p.tags.clone(),
        mentions: p.mentions.clone(),
        policy: p.policy,
        media,
        signature: p.signature.clone(),
    }
}

fn archived_follower(f: &FollowerRecord) -> ArchivedFollower {
    ArchivedFollower {
        actor: f.actor.uri.clone(),
        inbox: f.actor.inbox.clone(),
        shared_inbox: f.actor.shared_inbox.clone(),
        public_key_pem: f.actor.public_key_pem.clone(),
        key_id: f.actor.key_id.clone(),
        also_known_as: f.actor.also_known_as.clone(),
        fetched_at: f.actor.fetched_at,
        target_inbox: f.target_inbox.clone(),
        follow_uri: f.follow_uri.clone(),
        followed_at: f.created_at,
        pending: f.pending,
    }
}
