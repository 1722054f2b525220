//! Taking the metadata out of a PNG before it is kept: the `eXIf` chunk (where a phone or an
//! editor puts the GPS position), text chunks (`tEXt`, `zTXt`, `iTXt`, which carry XMP) and
//! `tIME` are dropped. Every other chunk, the image data included, is copied byte for byte.

use std::io::{self, Read, Write};

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
/// Chunks that describe the photo rather than draw it.
const DROPPED: [&[u8; 4]; 5] = [b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"];
/// The PNG specification's limit on a chunk's length.
const MAX_CHUNK: u32 = 0x7FFF_FFFF;

/// Copies the PNG `input` to `output` without its metadata chunks; answers how many were
/// dropped. A file that ends before `IEND` or declares an impossible chunk is refused.
pub fn strip(input: &mut impl Read, output: &mut impl Write) -> io::Result<usize> {
    let mut signature = [0u8; 8];
    input.read_exact(&mut signature)?;
    if &signature != SIGNATURE {
        return Err(invalid("not a PNG"));
    }
    output.write_all(&signature)?;
    let mut dropped = 0;
    loop {
        let mut header = [0u8; 8];
        input.read_exact(&mut header)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        if len > MAX_CHUNK {
            return Err(invalid("a PNG chunk longer than the format allows"));
        }
        let kind = [header[4], header[5], header[6], header[7]];
        // The chunk's data and its CRC.
        let mut body = input.by_ref().take(u64::from(len) + 4);
        if DROPPED.contains(&&kind) {
            let skipped = io::copy(&mut body, &mut io::sink())?;
            if skipped != u64::from(len) + 4 {
                return Err(invalid("the PNG ends inside a chunk"));
            }
            dropped += 1;
            continue;
        }
        output.write_all(&header)?;
        let copied = io::copy(&mut body, output)?;
        if copied != u64::from(len) + 4 {
            return Err(invalid("the PNG ends inside a chunk"));
        }
        if &kind == b"IEND" {
            return Ok(dropped);
        }
    }
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0, 0, 0, 0]);
        c
    }

    #[test]
    fn metadata_chunks_go_and_everything_else_stays_in_order() {
        let mut png = SIGNATURE.to_vec();
        let ihdr = chunk(b"IHDR", &[0; 13]);
        let idat = chunk(b"IDAT", b"pixels");
        let iend = chunk(b"IEND", b"");
        png.extend(&ihdr);
        png.extend(chunk(b"eXIf", b"MM\0*GPS 39.9,116.4"));
        png.extend(chunk(b"iTXt", b"XML:com.adobe.xmp\0<x:xmpmeta/>"));
        png.extend(&idat);
        png.extend(chunk(b"tIME", &[7; 7]));
        png.extend(&iend);
        let mut out = Vec::new();
        assert_eq!(strip(&mut png.as_slice(), &mut out).ok(), Some(3));
        let expected: Vec<u8> = [SIGNATURE.to_vec(), ihdr, idat, iend].concat();
        assert_eq!(out, expected);
    }

    #[test]
    fn a_truncated_or_lying_file_is_refused() {
        let mut png = SIGNATURE.to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        let mut out = Vec::new();
        assert!(strip(&mut png.as_slice(), &mut out).is_err());
        let mut lying = SIGNATURE.to_vec();
        lying.extend(0xFFFF_FFF0u32.to_be_bytes());
        lying.extend(b"eXIf");
        assert!(strip(&mut lying.as_slice(), &mut Vec::new()).is_err());
        assert!(strip(&mut &b"GIF89a"[..], &mut Vec::new()).is_err());
    }
}
