//! Keeping an image: checked and processed (`process`), its file written whole, its row
//! stored. The one way an image is kept, for uploads through the API, the console and the
//! apps, for avatars and headers, and for the images of feed entries.

use super::{process, Limits, MediaError};
use crate::{
    db::{self, Channel, DbError, Media, MediaId, NewMedia},
    state::HeraldState,
};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("could not write the file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the image could not be processed: {0}")]
    Task(String),
}

/// The size and pixel limits of an image, from `[posts]`.
pub fn limits(data: &HeraldState) -> Limits {
    Limits {
        max_bytes: data.config.posts.max_upload_bytes,
        max_pixels: data.config.posts.max_upload_pixels,
    }
}

/// Checks and processes an image (metadata stripped, blurhash made), stores the file and
/// its row.
pub async fn store_image(
    data: &HeraldState,
    channel: &Channel,
    file: Vec<u8>,
    description: Option<String>,
    focus: (f64, f64),
) -> Result<Media, StoreError> {
    let limits = limits(data);
    let processed = tokio::task::spawn_blocking(move || process(&file, limits))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
    let id = MediaId(uuid::Uuid::now_v7());
    let file_name = format!("{id}.{}", processed.extension);
    write_whole(&data.config.posts.media_dir, &file_name, &processed.bytes).await?;
    let stored = db::insert_media(
        &data.db,
        NewMedia {
            id,
            channel_id: channel.id,
            file_name,
            media_type: processed.media_type.to_string(),
            size: processed.bytes.len() as u64,
            width: processed.width,
            height: processed.height,
            blurhash: Some(processed.blurhash),
            description,
            focus,
        },
    )
    .await?;
    Ok(stored)
}

/// Writes a file whole or not at all (a temporary name, then a rename).
async fn write_whole(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let temporary = dir.join(format!(".{name}.part"));
    tokio::fs::write(&temporary, bytes).await?;
    tokio::fs::rename(&temporary, dir.join(name)).await
}
