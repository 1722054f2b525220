//! Taking the metadata out of a WebP before it is kept: the `EXIF` and `XMP ` chunks of an
//! extended WebP are dropped and their flags in `VP8X` cleared; the image chunks are copied
//! byte for byte. The RIFF size is written for what remains.

use std::io::{self, Read, Seek, SeekFrom, Write};

const DROPPED: [&[u8; 4]; 2] = [b"EXIF", b"XMP "];
/// `VP8X` flag bits (first byte of its payload): EXIF present, XMP present.
const EXIF_FLAG: u8 = 0x08;
const XMP_FLAG: u8 = 0x04;

struct Chunk {
    kind: [u8; 4],
    /// Where its payload starts in the input.
    offset: u64,
    len: u32,
}

impl Chunk {
    /// Header, payload and the pad byte that keeps chunks at even offsets.
    fn stored_len(&self) -> u64 {
        8 + u64::from(self.len) + u64::from(self.len & 1)
    }
}

/// Copies the WebP `input` to `output` without its metadata chunks; answers how many were
/// dropped. A chunk that runs past the end of the file is refused.
pub fn strip<R: Read + Seek>(input: &mut R, output: &mut impl Write) -> io::Result<usize> {
    let file_len = input.seek(SeekFrom::End(0))?;
    input.seek(SeekFrom::Start(0))?;
    let mut head = [0u8; 12];
    input.read_exact(&mut head)?;
    if &head[0..4] != b"RIFF" || &head[8..12] != b"WEBP" {
        return Err(invalid("not a WebP"));
    }
    let riff_end =
        (8 + u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]))).min(file_len);
    let mut chunks = Vec::new();
    let mut at = 12u64;
    while at + 8 <= riff_end {
        input.seek(SeekFrom::Start(at))?;
        let mut h = [0u8; 8];
        input.read_exact(&mut h)?;
        let chunk = Chunk {
            kind: [h[0], h[1], h[2], h[3]],
            offset: at + 8,
            len: u32::from_le_bytes([h[4], h[5], h[6], h[7]]),
        };
        if chunk.offset + u64::from(chunk.len) > file_len {
            return Err(invalid("a WebP chunk runs past the end of the file"));
        }
        at += chunk.stored_len();
        chunks.push(chunk);
    }
    let (kept, dropped): (Vec<Chunk>, Vec<Chunk>) = chunks
        .into_iter()
        .partition(|c| !DROPPED.contains(&&c.kind));
    let body: u64 = 4 + kept.iter().map(Chunk::stored_len).sum::<u64>();
    let riff_size =
        u32::try_from(body).map_err(|_| invalid("a WebP larger than the format allows"))?;
    output.write_all(b"RIFF")?;
    output.write_all(&riff_size.to_le_bytes())?;
    output.write_all(b"WEBP")?;
    for c in &kept {
        output.write_all(&c.kind)?;
        output.write_all(&c.len.to_le_bytes())?;
        input.seek(SeekFrom::Start(c.offset))?;
        if &c.kind == b"VP8X" && c.len >= 1 {
            let mut flags = [0u8; 1];
            input.read_exact(&mut flags)?;
            output.write_all(&[flags[0] & !(EXIF_FLAG | XMP_FLAG)])?;
            io::copy(&mut input.by_ref().take(u64::from(c.len) - 1), output)?;
        } else {
            io::copy(&mut input.by_ref().take(u64::from(c.len)), output)?;
        }
        if c.len & 1 == 1 {
            output.write_all(&[0])?;
        }
    }
    Ok(dropped.len())
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = kind.to_vec();
        c.extend((data.len() as u32).to_le_bytes());
        c.extend_from_slice(data);
        if data.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut f = b"RIFF".to_vec();
        f.extend(((body.len() + 4) as u32).to_le_bytes());
        f.extend(b"WEBP");
        f.extend(body);
        f
    }

    #[test]
    fn exif_and_xmp_go_with_their_flags_and_the_image_stays() {
        let vp8x = chunk(
            b"VP8X",
            &[EXIF_FLAG | XMP_FLAG | 0x10, 0, 0, 0, 1, 0, 0, 1, 0, 0],
        );
        let image = chunk(b"VP8L", b"lossless-bits");
        let file = riff(&[
            vp8x,
            image.clone(),
            chunk(b"EXIF", b"MM\0*GPS 39.9,116.4"),
            chunk(b"XMP ", b"<x:xmpmeta/>"),
        ]);
        let mut out = Vec::new();
        let n = strip(&mut io::Cursor::new(file), &mut out).ok();
        assert_eq!(n, Some(2));
        let expected = riff(&[chunk(b"VP8X", &[0x10, 0, 0, 0, 1, 0, 0, 1, 0, 0]), image]);
        assert_eq!(out, expected);
    }

    #[test]
    fn a_chunk_past_the_end_is_refused() {
        let mut file = riff(&[chunk(b"VP8L", b"ab")]);
        file.extend(b"EXIF");
        file.extend(1000u32.to_le_bytes());
        let len = file.len() as u32 - 8;
        file[4..8].copy_from_slice(&len.to_le_bytes());
        assert!(strip(&mut io::Cursor::new(file), &mut Vec::new()).is_err());
    }
}
