//! Uploaded images: the format read from the bytes (never the client's word), size and
//! pixel limits checked before decoding, the camera's orientation applied, every piece of
//! metadata (EXIF with GPS position, text chunks) stripped by re-encoding, and a blurhash
//! for receivers to show while the image loads; and keeping it (`store`: the file and its
//! row).

mod store;

pub use store::{limits, store_image, StoreError};

use image::{
    codecs::{jpeg::JpegEncoder, png::PngEncoder, webp::WebPEncoder},
    DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader,
};
use std::io::Cursor;

/// What an upload may be.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_pixels: u64,
}

/// An image ready to store and serve.
#[derive(Debug)]
pub struct Processed {
    pub bytes: Vec<u8>,
    pub media_type: &'static str,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
    pub blurhash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the image has {got} pixels; at most {limit} are accepted")]
    TooManyPixels { limit: u64, got: u64 },
    #[error("unsupported file type{0}; send JPEG, PNG, WebP or GIF")]
    Unsupported(String),
    #[error("the image could not be read: {0}")]
    Corrupt(String),
}

/// JPEG quality of re-encoded photos: visually lossless for most, and what strips EXIF.
const JPEG_QUALITY: u8 = 90;
/// Blurhash components (Mastodon uses 4×4 at most; 4×3 suits landscape photos).
const BLURHASH_COMPONENTS: (u32, u32) = (4, 3);

fn corrupt(e: impl std::fmt::Display) -> MediaError {
    MediaError::Corrupt(e.to_string())
}

/// Checks, cleans and describes an uploaded image.
pub fn process(bytes: &[u8], limits: Limits) -> Result<Processed, MediaError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(MediaError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| MediaError::Unsupported(String::new()))?;
    let (media_type, extension) = match format {
        ImageFormat::Jpeg => ("image/jpeg", "jpg"),
        ImageFormat::Png => ("image/png", "png"),
        ImageFormat::WebP => ("image/webp", "webp"),
        ImageFormat::Gif => ("image/gif", "gif"),
        other => return Err(MediaError::Unsupported(format!(" ({other:?})"))),
    };
    let reader = || ImageReader::with_format(Cursor::new(bytes), format);
    // The header says how big the image is: refuse decompression bombs before decoding.
    let (width, height) = reader().into_dimensions().map_err(corrupt)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(MediaError::TooManyPixels {
            limit: limits.max_pixels,
            got: pixels,
        });
    }
    let mut decoder = reader().into_decoder().map_err(corrupt)?;
    let orientation = decoder.orientation().map_err(corrupt)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    image.apply_orientation(orientation);
    let blurhash = blurhash_of(&image)?;
    let bytes = match format {
        // GIF carries no EXIF; re-encoding would lose the animation.
        ImageFormat::Gif => bytes.to_vec(),
        ImageFormat::Jpeg => {
            let mut out = Vec::new();
            let rgb = image.to_rgb8();
            JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
                .write_image(
                    &rgb,
                    rgb.width(),
                    rgb.height(),
                    image::ExtendedColorType::Rgb8,
                )
                .map_err(corrupt)?;
            out
        }
        ImageFormat::Png => {
            let mut out = Vec::new();
            let rgba = image.to_rgba8();
            PngEncoder::new(&mut out)
                .write_image(
                    &rgba,
                    rgba.width(),
                    rgba.height(),
                    image::ExtendedColorType::Rgba8,
                )
                .map_err(corrupt)?;
            out
        }
        _ => {
            let mut out = Vec::new();
            let rgba = image.to_rgba8();
            WebPEncoder::new_lossless(&mut out)
                .write_image(
                    &rgba,
                    rgba.width(),
                    rgba.height(),
                    image::ExtendedColorType::Rgba8,
                )
                .map_err(corrupt)?;
            out
        }
    };
    Ok(Processed {
        bytes,
        media_type,
        extension,
        width: image.width(),
        height: image.height(),
        blurhash,
    })
}

/// The blurhash of an image, computed on a small copy.
fn blurhash_of(image: &DynamicImage) -> Result<String, MediaError> {
    let small = image.thumbnail(64, 64).to_rgba8();
    blurhash::encode(
        BLURHASH_COMPONENTS.0,
        BLURHASH_COMPONENTS.1,
        small.width(),
        small.height(),
        small.as_raw(),
    )
    .map_err(corrupt)
}

/// Parses a focal point `x,y`, each in −1…1 (Mastodon's convention: −1 left/bottom).
pub fn parse_focus(raw: &str) -> Option<(f64, f64)> {
    let (x, y) = raw.split_once(',')?;
    let (x, y): (f64, f64) = (x.trim().parse().ok()?, y.trim().parse().ok()?);
    ((-1.0..=1.0).contains(&x) && (-1.0..=1.0).contains(&y)).then_some((x, y))
}

#[cfg(test)]
mod tests;
