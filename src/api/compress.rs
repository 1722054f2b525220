//! Gzip for answers worth it: a client that prefers gzip gets every answer of
//! [`SMALLEST_GZIPPED`] bytes or more gzipped, and every streamed one. A smaller answer goes
//! as it is: it fits in one TCP segment either way, and starting a compressor (zeroing its
//! tables) cost nearly as much as the rest of `/healthz` did. An answer that carries a
//! `Content-Encoding` already (the busiest reads gzip their own, `api::encoded`; stored files
//! say `identity`) is left alone, and so are images other than SVG, and video.

use actix_web::HttpMessage;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ResponseHead, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{
    self, AcceptEncoding, ContentEncoding, Encoding, Header, HeaderMap, HeaderValue,
};

pub use actix_http::encoding::Encoder;

/// The smallest answer gzipped, in bytes.
pub const SMALLEST_GZIPPED: usize = 1024;

/// Whether the client's `Accept-Encoding` prefers gzip to the answer as it is.
pub fn prefers_gzip(req: &impl HttpMessage) -> bool {
    AcceptEncoding::parse(req).ok().is_some_and(|accept| {
        accept.negotiate([Encoding::identity(), Encoding::gzip()].iter()) == Some(Encoding::gzip())
    })
}

/// The answer, gzipped when the client prefers it and the answer is worth it. An answer that
/// could have been gzipped says `Vary: Accept-Encoding` either way.
pub fn encode<B: MessageBody>(gzip: bool, res: ServiceResponse<B>) -> ServiceResponse<Encoder<B>> {
    res.map_body(|head, body| {
        let worth_it = worth_gzipping(head, body.size());
        let coding = if gzip && worth_it {
            ContentEncoding::Gzip
        } else {
            if worth_it {
                vary_on_accept_encoding(head.headers_mut());
            }
            ContentEncoding::Identity
        };
        // `Encoder` sets `Content-Encoding` and `Vary` when it gzips, and passes the body
        // through untouched otherwise.
        Encoder::response(coding, head, body)
    })
}

fn worth_gzipping(head: &ResponseHead, size: BodySize) -> bool {
    let big = match size {
        BodySize::None => false,
        BodySize::Sized(n) => n >= SMALLEST_GZIPPED as u64,
        BodySize::Stream => true,
    };
    big && !head.headers().contains_key(header::CONTENT_ENCODING)
        && !matches!(
            head.status,
            StatusCode::SWITCHING_PROTOCOLS | StatusCode::NO_CONTENT | StatusCode::PARTIAL_CONTENT
        )
        && compressible(head.headers().get(header::CONTENT_TYPE))
}

/// Images (other than SVG) and video are compressed in their own formats.
fn compressible(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.map(HeaderValue::as_bytes) else {
        return true;
    };
    let lower = |prefix: &[u8]| {
        value.len() >= prefix.len() && value[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    if lower(b"video/") {
        return false;
    }
    !lower(b"image/") || lower(b"image/svg+xml")
}

/// Adds `Vary: Accept-Encoding` unless the answer says it already.
fn vary_on_accept_encoding(headers: &mut HeaderMap) {
    let said = headers.get_all(header::VARY).any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|name| name.trim().eq_ignore_ascii_case("accept-encoding"))
        })
    });
    if !said {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_and_video_are_not_gzipped_but_svg_and_text_are() {
        let kept = [
            "image/png",
            "IMAGE/JPEG",
            "image/webp",
            "video/mp4",
            "Video/webm",
        ];
        for t in kept {
            assert!(!compressible(Some(&HeaderValue::from_static(t))), "{t}");
        }
        let gzipped = [
            "image/svg+xml",
            "application/json",
            "text/html; charset=utf-8",
            "text/csv",
        ];
        for t in gzipped {
            assert!(compressible(Some(&HeaderValue::from_static(t))), "{t}");
        }
        assert!(compressible(None));
    }

    #[test]
    fn vary_is_said_once() {
        let mut headers = HeaderMap::new();
        vary_on_accept_encoding(&mut headers);
        vary_on_accept_encoding(&mut headers);
        assert_eq!(headers.get_all(header::VARY).count(), 1);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::VARY,
            HeaderValue::from_static("Origin, Accept-Encoding"),
        );
        vary_on_accept_encoding(&mut headers);
        assert_eq!(headers.get_all(header::VARY).count(), 1);
    }
}
