//! Small previews of photos, so that the app's lists stay light.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

/// The longest side of a thumbnail, in pixels.
pub const MAX_SIDE: u32 = 320;

/// The most pixels a thumbnail is drawn from (uploads above it are refused).
pub const MAX_PIXELS: u64 = 50_000_000;

/// A JPEG thumbnail of an image, or why not. Decoding is bounded: an image declaring more
/// than [`MAX_PIXELS`] is refused before any pixel is decoded, and the decoder may not
/// allocate more than 256 MiB, so a crafted file cannot take the memory.
pub fn make(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let reader = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())
    };
    let (w, h) = reader()?.into_dimensions().map_err(|e| e.to_string())?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "{w}×{h} pixels is more than a thumbnail is drawn from"
        ));
    }
    let mut reader = reader()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| e.to_string())?;
    let thumb = img.thumbnail(MAX_SIDE, MAX_SIDE).to_rgb8();
    let mut out = Cursor::new(Vec::new());
    thumb
        .write_to(&mut out, ImageFormat::Jpeg)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// Width and height from the file's header, without decoding it.
pub fn dimensions(path: &std::path::Path) -> Option<(u32, u32)> {
    ImageReader::open(path)
        .ok()?
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
}
