//! The file types an observer may attach, told by their first bytes (magic numbers), never
//! by the name or the declared type.

/// Bytes needed to tell every accepted type apart.
pub const SNIFF_LEN: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Webp,
    Heic,
    Pdf,
}

impl Kind {
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Webp => "image/webp",
            Kind::Heic => "image/heic",
            Kind::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
            Kind::Webp => "webp",
            Kind::Heic => "heic",
            Kind::Pdf => "pdf",
        }
    }

    /// Whether the service can draw a thumbnail of it (HEIC needs a codec it does not carry).
    pub fn has_thumbnail(self) -> bool {
        matches!(self, Kind::Jpeg | Kind::Png | Kind::Webp)
    }

    pub fn from_content_type(ct: &str) -> Option<Kind> {
        [Kind::Jpeg, Kind::Png, Kind::Webp, Kind::Heic, Kind::Pdf]
            .into_iter()
            .find(|k| k.content_type() == ct)
    }
}

/// The kind of a file from its first bytes (at least `SNIFF_LEN` unless the file is shorter).
pub fn sniff(head: &[u8]) -> Option<Kind> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Kind::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Kind::Png);
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(Kind::Webp);
    }
    // ISO base media: a box size, then `ftyp` and the major brand.
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let brand = &head[8..12];
        if [
            b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
        ]
        .iter()
        .any(|b| brand == *b)
        {
            return Some(Kind::Heic);
        }
    }
    if head.starts_with(b"%PDF-") {
        return Some(Kind::Pdf);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_accepted_type_is_known_by_its_magic_number() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(Kind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(Kind::Png));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8L"), Some(Kind::Webp));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), Some(Kind::Heic));
        assert_eq!(sniff(b"\0\0\0\x18ftypmif1\0\0\0\0"), Some(Kind::Heic));
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3"), Some(Kind::Pdf));
    }

    #[test]
    fn anything_else_is_refused_whatever_it_claims() {
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0"), None);
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0\0\0\0\0\0\0"), None);
        assert_eq!(sniff(b"\0\0\0\x18ftypisom\0\0\0\0"), None, "an MP4 video");
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None, "too short to be a JPEG");
    }
}
