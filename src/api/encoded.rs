//! JSON answers of the busiest reads, serialized and gzipped on the reader thread that ran
//! their query, so that such a read costs one hand-off off the server's worker. (The general
//! gzip of `api::compress` hands every body of 1 KiB or more to the blocking pool a second
//! time, and builds a new compressor for each answer; it leaves an answer that is already
//! encoded alone.) Each blocking thread keeps one compressor, reset between answers, and one
//! buffer for the JSON it compresses. Below `SMALLEST_GZIPPED` an answer goes as it is, as
//! every other answer does.

use std::cell::RefCell;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use flate2::{Compress, Compression, Crc, FlushCompress, Status};

use crate::api::compress::{SMALLEST_GZIPPED, prefers_gzip};
use crate::error::AppError;

/// How the client wants the answer: gzipped when its `Accept-Encoding` prefers gzip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coding {
    gzip: bool,
}

impl Coding {
    /// As `api::compress` found it when the request came in (it keeps it among the request's
    /// extensions), so that the header is parsed once; parsed here otherwise.
    pub fn of(req: &HttpRequest) -> Self {
        use actix_web::HttpMessage;
        let kept = req.extensions().get::<Coding>().copied();
        kept.unwrap_or_else(|| Coding::new(prefers_gzip(req)))
    }

    pub fn new(gzip: bool) -> Self {
        Coding { gzip }
    }

    pub fn gzip(self) -> bool {
        self.gzip
    }
}

/// A JSON body, gzipped or not.
#[derive(Debug)]
pub struct Encoded {
    bytes: Vec<u8>,
    gzip: bool,
}

impl Encoded {
    /// Serializes `value`, gzipped when the client asked for it and it is worth it.
    pub fn json(value: &impl serde::Serialize, coding: Coding) -> Result<Self, AppError> {
        Encoded::written(coding, |out| {
            serde_json::to_writer(out, value).map_err(AppError::internal)
        })
    }

    /// The JSON `write` writes, gzipped when the client asked for it and it is
    /// `SMALLEST_GZIPPED` bytes or more.
    pub fn written(
        coding: Coding,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), AppError>,
    ) -> Result<Self, AppError> {
        if !coding.gzip {
            let mut bytes = Vec::new();
            write(&mut bytes)?;
            return Ok(Encoded { bytes, gzip: false });
        }
        // The JSON is only the compressor's input: written into this thread's buffer, which
        // keeps its size between answers instead of growing from nothing each time.
        JSON.with(|cell| {
            let mut json = cell.borrow_mut();
            json.clear();
            write(&mut json)?;
            if json.len() < SMALLEST_GZIPPED {
                return Ok(Encoded {
                    bytes: json.clone(),
                    gzip: false,
                });
            }
            let bytes = gzip(&json).map_err(AppError::internal);
            if json.capacity() > KEPT_JSON_BYTES {
                *json = Vec::new();
            }
            Ok(Encoded {
                bytes: bytes?,
                gzip: true,
            })
        })
    }

    /// The answer: `builder`'s status and headers with this body.
    pub fn respond(self, mut builder: HttpResponseBuilder) -> HttpResponse {
        builder.insert_header(header::ContentType::json());
        if self.gzip {
            // A cache between us and the client must not hand a gzipped body to one that
            // did not ask for it. (A plain answer of 1 KiB or more is said to vary by
            // `api::compress`.)
            builder.insert_header((header::VARY, "accept-encoding"));
            builder.insert_header(header::ContentEncoding::Gzip);
        }
        builder.body(self.bytes)
    }
}

/// The most a thread keeps of a buffer between answers: a page of 50 issues is about 40 KB;
/// a bigger answer's buffer is let go after it.
const KEPT_JSON_BYTES: usize = 256 * 1024;

thread_local! {
    static DEFLATE: RefCell<Option<Compress>> = const { RefCell::new(None) };
    static JSON: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// `input` in a gzip member (RFC 1952): header, raw deflate at the fast level, CRC-32 and
/// length.
fn gzip(input: &[u8]) -> Result<Vec<u8>, flate2::CompressError> {
    // ID1 ID2, deflate, no flags, no time, no extra flags, unknown OS.
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut out = Vec::with_capacity(input.len() / 4 + 64);
    out.extend_from_slice(&HEADER);
    DEFLATE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let deflate = slot.get_or_insert_with(|| Compress::new(Compression::fast(), false));
        deflate.reset();
        loop {
            let read = usize::try_from(deflate.total_in()).unwrap_or(input.len());
            let rest = input.get(read..).unwrap_or_default();
            if deflate.compress_vec(rest, &mut out, FlushCompress::Finish)? == Status::StreamEnd {
                return Ok(());
            }
            out.reserve(out.capacity().max(1024));
        }
    })?;
    let mut crc = Crc::new();
    crc.update(input);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE: the length modulo 2^32, as the format defines it.
    out.extend_from_slice(&(input.len() as u32).to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn a_gzipped_answer_unpacks_to_the_json_and_the_compressor_is_reused_cleanly() {
        let big: Vec<String> = (0..5000).map(|i| format!("问题 {i}")).collect();
        let huge: Vec<String> = (0..40_000).map(|i| format!("问题 {i}")).collect();
        let small = vec!["一二"; 200];
        // Big enough that the output has to grow, then answers after it on the same thread:
        // a smaller one in the kept buffer, one too big to keep, and a small one again.
        let values = [big, huge].map(|v| serde_json::json!(v));
        for value in [&values[0], &serde_json::json!(small), &values[1]] {
            let encoded = Encoded::json(value, Coding { gzip: true }).unwrap();
            assert!(encoded.gzip);
            assert_eq!(gunzip(&encoded.bytes), serde_json::to_vec(value).unwrap());
            let kept = JSON.with(|cell| cell.borrow().capacity());
            assert!(kept <= KEPT_JSON_BYTES, "a thread kept {kept} bytes");
        }
        let small = serde_json::json!(small);
        let encoded = Encoded::json(&small, Coding { gzip: true }).unwrap();
        assert_eq!(gunzip(&encoded.bytes), serde_json::to_vec(&small).unwrap());
    }

    #[test]
    fn a_client_that_did_not_ask_gets_plain_json_and_one_that_did_gets_gzip_from_1_kib() {
        // A JSON string of n letters is n + 2 bytes.
        let at_least = serde_json::json!("x".repeat(SMALLEST_GZIPPED - 2));
        let zipped = Encoded::json(&at_least, Coding { gzip: true }).unwrap();
        assert!(zipped.gzip);
        assert_eq!(
            gunzip(&zipped.bytes),
            serde_json::to_vec(&at_least).unwrap()
        );
        let under = serde_json::json!("x".repeat(SMALLEST_GZIPPED - 3));
        let plain = Encoded::json(&under, Coding { gzip: true }).unwrap();
        assert!(!plain.gzip);
        assert_eq!(plain.bytes.len(), SMALLEST_GZIPPED - 1);
        assert_eq!(plain.bytes, serde_json::to_vec(&under).unwrap());
        let big = serde_json::json!(vec!["x"; 1000]);
        let plain = Encoded::json(&big, Coding { gzip: false }).unwrap();
        assert!(!plain.gzip);
        assert_eq!(plain.bytes, serde_json::to_vec(&big).unwrap());
    }

    #[test]
    fn the_client_gets_gzip_only_when_it_accepts_it() {
        let coding = |accept: Option<&str>| {
            let mut req = actix_web::test::TestRequest::default();
            if let Some(a) = accept {
                req = req.insert_header((header::ACCEPT_ENCODING, a));
            }
            Coding::of(&req.to_http_request()).gzip
        };
        assert!(coding(Some("gzip")));
        assert!(coding(Some("gzip, deflate, br")));
        assert!(coding(Some("br;q=1, gzip;q=0.5")));
        assert!(!coding(None));
        assert!(!coding(Some("gzip;q=0")));
        assert!(!coding(Some("br")));
        assert!(!coding(Some("identity")));
    }
}
