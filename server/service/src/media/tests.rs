use super::*;

const LIMITS: Limits = Limits {
    max_bytes: 1 << 20,
    max_pixels: 1 << 20,
};

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, 128])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 80)
        .write_image(&image, width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A JPEG carrying an EXIF segment with a GPS position (see tests/media/README.md).
const GPS_JPEG: &[u8] = include_bytes!("../../../../tests/media/gps.jpg");

#[test]
fn gps_exif_is_stripped() {
    let upload = GPS_JPEG;
    assert!(upload.windows(6).any(|w| w == b"Exif\0\0"));
    let processed = process(upload, LIMITS).unwrap();
    assert_eq!(processed.media_type, "image/jpeg");
    assert_eq!((processed.width, processed.height), (40, 30));
    assert!(
        !processed.bytes.windows(4).any(|w| w == b"Exif"),
        "EXIF survived"
    );
    assert!(
        !processed.bytes.windows(4).any(|w| w == [0x25, 0x88, 4, 0]),
        "GPS pointer survived"
    );
    assert!(!processed.blurhash.is_empty());
}

#[test]
fn limits_and_formats() {
    let big = jpeg(2000, 1000);
    let small_limit = Limits {
        max_bytes: 1 << 20,
        max_pixels: 1_000_000,
    };
    assert!(matches!(
        process(&big, small_limit),
        Err(MediaError::TooManyPixels { got: 2_000_000, .. })
    ));
    let tiny = Limits {
        max_bytes: 100,
        max_pixels: 1 << 20,
    };
    assert!(matches!(
        process(&big, tiny),
        Err(MediaError::TooLarge { limit: 100 })
    ));
    assert!(matches!(
        process(b"%PDF-1.7 not an image", LIMITS),
        Err(MediaError::Unsupported(_))
    ));
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(&[255, 0, 0, 255], 1, 1, image::ExtendedColorType::Rgba8)
        .unwrap();
    assert_eq!(process(&png, LIMITS).unwrap().media_type, "image/png");
    let truncated = &jpeg(10, 10)[..40];
    assert!(process(truncated, LIMITS).is_err());
}

#[test]
fn focal_points() {
    assert_eq!(parse_focus("0.5,-0.25"), Some((0.5, -0.25)));
    assert_eq!(parse_focus("2,0"), None);
    assert_eq!(parse_focus("left"), None);
}
