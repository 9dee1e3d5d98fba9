//! Uploaded media: images attached to posts or used as a channel's avatar and header.

use super::{entities::media, Channel, ChannelId, DbError, DbResult, MediaId, PostId};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

#[derive(Clone, Debug, PartialEq)]
pub struct Media {
    pub id: MediaId,
    pub channel_id: ChannelId,
    pub post_id: Option<PostId>,
    /// The file's name in the media directory.
    pub file_name: String,
    pub media_type: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub blurhash: Option<String>,
    /// Alt text.
    pub description: Option<String>,
    /// Focal point, each in −1…1 (Mastodon's convention).
    pub focus: (f64, f64),
    pub created_at: DateTime<Utc>,
}

pub struct NewMedia {
    pub id: MediaId,
    pub channel_id: ChannelId,
    pub file_name: String,
    pub media_type: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub blurhash: Option<String>,
    pub description: Option<String>,
    pub focus: (f64, f64),
}

impl TryFrom<media::Model> for Media {
    type Error = DbError;

    fn try_from(m: media::Model) -> DbResult<Media> {
        Ok(Media {
            id: MediaId::parse(&m.id).ok_or_else(|| DbError::Corrupt(m.id.clone()))?,
            channel_id: ChannelId(m.channel_id),
            post_id: m.post_id.as_deref().and_then(PostId::parse),
            file_name: m.file_name,
            media_type: m.media_type,
            size: u64::try_from(m.size).unwrap_or_default(),
            width: u32::try_from(m.width).unwrap_or_default(),
            height: u32::try_from(m.height).unwrap_or_default(),
            blurhash: m.blurhash,
            description: m.description,
            focus: (m.focus_x, m.focus_y),
            created_at: m.created_at,
        })
    }
}

pub async fn insert_media(db: &impl ConnectionTrait, new: NewMedia) -> DbResult<Media> {
    media::ActiveModel {
        id: Set(new.id.to_string()),
        channel_id: Set(new.channel_id.0),
        post_id: Set(None),
        position: Set(0),
        file_name: Set(new.file_name),
        media_type: Set(new.media_type),
        size: Set(i64::try_from(new.size).unwrap_or(i64::MAX)),
        width: Set(i32::try_from(new.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(new.height).unwrap_or(i32::MAX)),
        blurhash: Set(new.blurhash),
        description: Set(new.description),
        focus_x: Set(new.focus.0),
        focus_y: Set(new.focus.1),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?
    .try_into()
}

/// A medium of `channel` by id.
pub async fn media_by_id(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    id: MediaId,
) -> DbResult<Media> {
    media::Entity::find_by_id(id.to_string())
        .filter(media::Column::ChannelId.eq(channel.0))
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
}

/// Sets a medium's alt text and focal point (Mastodon apps set them after the upload).
/// Receivers see the change with the post's next Update.
pub async fn update_media_text(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    id: MediaId,
    description: Option<String>,
    focus: (f64, f64),
) -> DbResult<Media> {
    let result = media::Entity::update_many()
        .col_expr(media::Column::Description, Expr::value(description))
        .col_expr(media::Column::FocusX, Expr::value(focus.0))
        .col_expr(media::Column::FocusY, Expr::value(focus.1))
        .filter(media::Column::Id.eq(id.to_string()))
        .filter(media::Column::ChannelId.eq(channel.0))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(DbError::NotFound);
    }
    media_by_id(db, channel, id).await
}

/// A medium by its file name (to serve it).
pub async fn media_by_file(db: &impl ConnectionTrait, file_name: &str) -> DbResult<Media> {
    media::Entity::find()
        .filter(media::Column::FileName.eq(file_name))
        .one(db)
        .await?
        .ok_or(DbError::NotFound)?
        .try_into()
}

/// The attachments of `posts`, each post's in order.
pub async fn media_for_posts(db: &impl ConnectionTrait, posts: &[PostId]) -> DbResult<Vec<Media>> {
    if posts.is_empty() {
        return Ok(Vec::new());
    }
    media::Entity::find()
        .filter(media::Column::PostId.is_in(posts.iter().map(|p| p.to_string())))
        .order_by_asc(media::Column::PostId)
        .order_by_asc(media::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(Media::try_from)
        .collect()
}

/// Attaches `ids` (in order) to `post`, detaching what was attached before. Every medium
/// must belong to the channel and be free or already this post's, else `Conflict`.
pub(super) async fn attach_media(
    db: &impl ConnectionTrait,
    channel: ChannelId,
    post: PostId,
    ids: &[MediaId],
) -> DbResult<()> {
    use sea_orm::sea_query::Expr;
    media::Entity::update_many()
        .col_expr(media::Column::PostId, Expr::value(Option::<String>::None))
        .filter(media::Column::PostId.eq(post.to_string()))
        .exec(db)
        .await?;
    for (position, id) in ids.iter().enumerate() {
        let result = media::Entity::update_many()
            .col_expr(media::Column::PostId, Expr::value(post.to_string()))
            .col_expr(
                media::Column::Position,
                Expr::value(i32::try_from(position).unwrap_or(0)),
            )
            .filter(media::Column::Id.eq(id.to_string()))
            .filter(media::Column::ChannelId.eq(channel.0))
            .filter(media::Column::PostId.is_null())
            .exec(db)
            .await?;
        if result.rows_affected != 1 {
            return Err(DbError::Conflict(format!(
                "media {id} is not this channel's or is attached elsewhere"
            )));
        }
    }
    Ok(())
}

/// The file names of every medium `channel` uploaded (to remove the files once the
/// channel is deleted).
pub async fn media_files_of_channel(
    db: &impl ConnectionTrait,
    channel: ChannelId,
) -> DbResult<Vec<String>> {
    Ok(media::Entity::find()
        .select_only()
        .column(media::Column::FileName)
        .filter(media::Column::ChannelId.eq(channel.0))
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// A channel's avatar and header, loaded with it.
#[derive(Default)]
pub struct ChannelImages {
    pub avatar: Option<Media>,
    pub header: Option<Media>,
}

impl ChannelImages {
    pub async fn load(
        db: &impl ConnectionTrait,
        channel: &Channel,
    ) -> Result<ChannelImages, DbError> {
        let get = |id: Option<MediaId>| async move {
            match id {
                Some(id) => match media_by_id(db, channel.id, id).await {
                    Ok(media) => Ok(Some(media)),
                    Err(DbError::NotFound) => Ok(None),
                    Err(e) => Err(e),
                },
                None => Ok(None),
            }
        };
        Ok(ChannelImages {
            avatar: get(channel.avatar).await?,
            header: get(channel.header).await?,
        })
    }
}
