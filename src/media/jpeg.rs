//! Taking the metadata out of a JPEG before it is kept: EXIF (where phones write the GPS
//! position, the device and the time), XMP and IPTC segments are dropped. Only the
//! orientation survives, rewritten as a minimal EXIF block, so that a photo taken upright
//! still shows upright. The image data is copied byte for byte, never re-encoded.

use std::io::{self, Read, Write};

const EXIF_ID: &[u8] = b"Exif\0\0";
const XMP_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXT_ID: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
const ORIENTATION_TAG: u16 = 0x0112;

/// What `strip` removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stripped {
    pub segments_removed: usize,
    pub orientation: Option<u16>,
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn read_u8(r: &mut impl Read) -> io::Result<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

/// Copies the JPEG `input` to `output` without its metadata segments.
pub fn strip(input: &mut impl Read, output: &mut impl Write) -> io::Result<Stripped> {
    let mut soi = [0u8; 2];
    input.read_exact(&mut soi)?;
    if soi != [0xFF, 0xD8] {
        return Err(invalid("not a JPEG"));
    }
    output.write_all(&soi)?;
    let mut out = Stripped::default();
    loop {
        let mut b = read_u8(input)?;
        if b != 0xFF {
            return Err(invalid("expected a marker"));
        }
        // Any number of fill bytes may precede a marker.
        while b == 0xFF {
            b = read_u8(input)?;
        }
        let marker = b;
        match marker {
            // Start of scan: the compressed image follows, up to the end; copied as is.
            0xDA => {
                output.write_all(&[0xFF, marker])?;
                io::copy(input, output)?;
                return Ok(out);
            }
            0xD9 => {
                output.write_all(&[0xFF, marker])?;
                return Ok(out);
            }
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                output.write_all(&[0xFF, marker])?;
                continue;
            }
            _ => {}
        }
        let mut len = [0u8; 2];
        input.read_exact(&mut len)?;
        let len = u16::from_be_bytes(len) as usize;
        if len < 2 {
            return Err(invalid("segment length below 2"));
        }
        let mut payload = vec![0u8; len - 2];
        input.read_exact(&mut payload)?;
        let drop = match marker {
            0xE1 if payload.starts_with(EXIF_ID) => {
                // In its place, only the orientation, once (a photo may carry two blocks).
                if out.orientation.is_none() {
                    out.orientation = orientation(&payload[EXIF_ID.len()..]);
                    if let Some(o) = out.orientation.filter(|o| *o != 1) {
                        output.write_all(&minimal_exif(o))?;
                    }
                }
                true
            }
            0xE1 if payload.starts_with(XMP_ID) || payload.starts_with(XMP_EXT_ID) => true,
            // IPTC / Photoshop resources (may carry a location and names).
            0xED => true,
            _ => false,
        };
        if drop {
            out.segments_removed += 1;
            continue;
        }
        output.write_all(&[0xFF, marker])?;
        output.write_all(&(len as u16).to_be_bytes())?;
        output.write_all(&payload)?;
    }
}

/// An APP1 segment holding only an orientation: `Exif\0\0`, a big-endian TIFF header and
/// one IFD with one SHORT entry.
pub fn minimal_exif(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0\x2A\0\0\0\x08");
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&ORIENTATION_TAG.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    let len = (2 + EXIF_ID.len() + tiff.len()) as u16;
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(EXIF_ID);
    seg.extend_from_slice(&tiff);
    seg
}

/// The Orientation tag of IFD0 in a TIFF block, if present and sane.
fn orientation(tiff: &[u8]) -> Option<u16> {
    let big = match tiff.get(0..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    (0..count.min(512))
        .map(|i| ifd + 2 + i * 12)
        .find(|&e| u16_at(e) == Some(ORIENTATION_TAG))
        .and_then(|e| u16_at(e + 8))
        .filter(|o| (1..=8).contains(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(payload);
        s
    }

    /// A little-endian EXIF block with an orientation and a GPS pointer.
    fn exif_with_gps(orientation: u16) -> Vec<u8> {
        let mut t = b"II\x2A\0\x08\0\0\0".to_vec();
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&0x0112u16.to_le_bytes());
        t.extend_from_slice(&3u16.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&orientation.to_le_bytes());
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&0x8825u16.to_le_bytes());
        t.extend_from_slice(&4u16.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes());
        let mut p = EXIF_ID.to_vec();
        p.extend_from_slice(&t);
        p
    }

    fn jpeg(segments: &[Vec<u8>]) -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8];
        for s in segments {
            j.extend_from_slice(s);
        }
        j.extend_from_slice(&segment(0xDA, &[1, 2, 3]));
        j.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9]);
        j
    }

    fn run(input: &[u8]) -> (Vec<u8>, Stripped) {
        let mut out = Vec::new();
        let st = strip(&mut &input[..], &mut out).unwrap();
        (out, st)
    }

    #[test]
    fn exif_xmp_and_iptc_are_removed_and_the_scan_is_kept_byte_for_byte() {
        let jfif = segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let dqt = segment(0xDB, &[0; 65]);
        let input = jpeg(&[
            jfif.clone(),
            segment(0xE1, &exif_with_gps(1)),
            segment(
                0xE1,
                b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta GPSLatitude='30'/>",
            ),
            segment(0xED, b"Photoshop 3.0\0IPTC"),
            dqt.clone(),
        ]);
        let (out, st) = run(&input);
        assert_eq!(st.segments_removed, 3);
        assert_eq!(out, jpeg(&[jfif, dqt]), "orientation 1 needs no block");
    }

    #[test]
    fn a_turned_photo_keeps_only_its_orientation() {
        let jfif = segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let input = jpeg(&[jfif.clone(), segment(0xE1, &exif_with_gps(6))]);
        let (out, st) = run(&input);
        assert_eq!(st.orientation, Some(6));
        assert_eq!(out, jpeg(&[jfif, minimal_exif(6)]));
        assert_eq!(orientation(&minimal_exif(6)[10..]), Some(6));
    }

    #[test]
    fn a_file_that_is_not_a_jpeg_is_an_error_not_a_panic() {
        assert!(strip(&mut &b"\x89PNG"[..], &mut Vec::new()).is_err());
        assert!(strip(&mut &[0xFF, 0xD8, 0xFF, 0xE1, 0x00][..], &mut Vec::new()).is_err());
        assert!(
            strip(
                &mut &[0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01][..],
                &mut Vec::new()
            )
            .is_err()
        );
    }
}
