//! Photos and files: accepted by content, cleaned of location, stored whole, served to
//! whoever sees the issue (with ranges and thumbnails), refused early when too large.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::{Value, json};

use crate::county::County;
use crate::helpers::{Db, Resp};
use crate::on_both_databases;

on_both_databases!(
    each_accepted_type_is_stored_and_served_as_sent,
    a_renamed_executable_is_refused_whatever_its_name,
    an_oversized_upload_is_refused_before_the_rest_is_read,
    gps_and_other_exif_are_gone_unless_the_observer_keeps_the_location,
    png_and_webp_photos_lose_their_position_too,
    a_heic_photo_is_refused_unless_the_observer_keeps_the_location,
    an_image_declaring_more_than_fifty_megapixels_is_refused_before_it_is_drawn,
    a_start_sweeps_away_temp_files_and_objects_no_row_points_at,
    only_those_who_see_the_issue_read_its_files,
    a_retried_upload_stores_one_file,
    a_phone_registers_for_push_and_logging_out_removes_it,
);

pub(crate) const BOUNDARY: &str = "observer-desk-test-boundary";

/// A multipart body with a `file` part and text fields.
pub(crate) fn form(
    file_name: &str,
    declared_type: &str,
    bytes: &[u8],
    fields: &[(&str, &str)],
) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {declared_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(crate) async fn upload(
    c: &County,
    token: &str,
    issue: i64,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> Resp {
    c.app
        .send_bytes(
            "POST",
            &format!("/api/v1/issues/{issue}/attachments"),
            Some(token),
            headers,
            Some((format!("multipart/form-data; boundary={BOUNDARY}"), body)),
        )
        .await
}

pub(crate) fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub(crate) fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(800, 600, |x, y| {
        image::Rgb([(x % 200) as u8, 120, (y % 200) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn webp() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(64, 48, |x, y| image::Rgba([x as u8, y as u8, 7, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::WebP).unwrap();
    out.into_inner()
}

/// The first bytes of an iPhone photo: an ISO box `ftyp` with brand `heic`, then filler.
fn heic() -> Vec<u8> {
    let mut b = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    b.extend(std::iter::repeat_n(0x42, 2000));
    b
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// An EXIF block (little-endian) with an orientation and a GPS position: 36°N 111°E.
fn exif_with_gps(orientation: u16) -> Vec<u8> {
    let mut t: Vec<u8> = b"II\x2A\0\x08\0\0\0".to_vec();
    // IFD0 at 8: two entries, then the next-IFD offset.
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&orientation.to_le_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&0x8825u16.to_le_bytes());
    t.extend_from_slice(&4u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&38u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD at 38: latitude ref, latitude, longitude ref, longitude.
    let rationals_at = 38 + 2 + 4 * 12 + 4;
    t.extend_from_slice(&4u16.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&typ.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value);
    };
    entry(&mut t, 1, 2, 2, *b"N\0\0\0");
    entry(&mut t, 2, 5, 3, (rationals_at as u32).to_le_bytes());
    entry(&mut t, 3, 2, 2, *b"E\0\0\0");
    entry(&mut t, 4, 5, 3, (rationals_at as u32 + 24).to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    for v in [36u32, 0, 0, 111, 0, 0] {
        t.extend_from_slice(&v.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
    }
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&((t.len() + 8) as u16).to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&t);
    seg
}

/// A phone photo: the JPEG with its EXIF block right after the start marker.
fn phone_photo(orientation: u16) -> Vec<u8> {
    let plain = jpeg();
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&exif_with_gps(orientation));
    out.extend_from_slice(&plain[2..]);
    out
}

fn exif_fields(bytes: &[u8]) -> Vec<exif::Tag> {
    match exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) {
        Ok(e) => e.fields().map(|f| f.tag).collect(),
        Err(_) => Vec::new(),
    }
}

pub(crate) async fn download(c: &County, token: &str, id: i64, headers: &[(&str, &str)]) -> Resp {
    c.app
        .send(
            "GET",
            &format!("/api/v1/attachments/{id}"),
            Some(token),
            headers,
            None,
        )
        .await
}

async fn each_accepted_type_is_stored_and_served_as_sent(db: Db) {
    let c = County::new(db).await;
    let issue = c.file("证据").await;
    let files: Vec<(&str, &str, Vec<u8>)> = vec![
        ("现场照片.png", "image/png", png()),
        ("photo.jpg", "image/jpeg", jpeg()),
        ("图.webp", "image/webp", webp()),
        ("IMG_0001.HEIC", "image/heic", heic()),
        ("复函.pdf", "application/pdf", pdf()),
    ];
    for (name, content_type, bytes) in &files {
        // Declared as something else: the content decides. (HEIC cannot be cleaned of its
        // position here, so it is accepted only when the observer keeps the location.)
        let keep: &[(&str, &str)] = if *content_type == "image/heic" {
            &[("keep_location", "true")]
        } else {
            &[]
        };
        let r = upload(
            &c,
            &c.obs1,
            issue,
            form(name, "application/octet-stream", bytes, keep),
            &[],
        )
        .await;
        let a = r.assert_status(201).clone();
        assert_eq!(a["content_type"], *content_type, "{name}");
        assert_eq!(a["size"], bytes.len(), "{name}");
        assert_eq!(a["file_name"], *name);
        use sha2::Digest;
        let sha = sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        assert_eq!(a["sha256"], sha, "{name}");
        let got = download(&c, &c.staff_a, a["id"].as_i64().unwrap(), &[]).await;
        assert_eq!(got.status, 200, "{name}");
        assert_eq!(&got.bytes, bytes, "{name} came back changed");
        assert_eq!(got.header("content-type").as_deref(), Some(*content_type));
        let disposition = got.header("content-disposition").unwrap();
        assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
        assert_eq!(got.header("etag"), Some(format!("\"{sha}\"")));
    }
    let list = c
        .app
        .get(&format!("/api/v1/issues/{issue}/attachments"), &c.obs2)
        .await;
    let spec = crate::openapi::spec();
    crate::openapi::assert_matches_schema(&spec, "AttachmentList", &list.body);
    crate::openapi::assert_matches_schema(&spec, "Attachment", &list.body["items"][0]);
    let items = list.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 5);
    let photo = items[1]["id"].as_i64().unwrap();
    assert_eq!(
        (items[1]["width"].clone(), items[1]["height"].clone()),
        (json!(800), json!(600))
    );
    // A range, the way a phone resumes a download.
    let whole = download(&c, &c.obs1, photo, &[]).await.bytes;
    let part = download(&c, &c.obs1, photo, &[("Range", "bytes=100-1099")]).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.bytes, whole[100..1100]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-1099/{}", whole.len()))
    );
    // Compression never touches the bytes of a file or a range.
    let zipped = download(
        &c,
        &c.obs1,
        photo,
        &[("Range", "bytes=100-1099"), ("Accept-Encoding", "gzip")],
    )
    .await;
    assert_eq!(zipped.bytes, whole[100..1100]);
    assert_ne!(zipped.header("content-encoding").as_deref(), Some("gzip"));
    let tail = download(&c, &c.obs1, photo, &[("Range", "bytes=-10")]).await;
    assert_eq!(tail.bytes, whole[whole.len() - 10..]);
    let outside = download(
        &c,
        &c.obs1,
        photo,
        &[("Range", &format!("bytes={}-", whole.len() + 5))],
    )
    .await;
    outside.assert_problem(416, "range_not_satisfiable");
    // Bounds at and past the largest number: the whole file or 416, never a failure.
    let huge = download(
        &c,
        &c.obs1,
        photo,
        &[("Range", "bytes=0-18446744073709551615")],
    )
    .await;
    assert_eq!((huge.status, huge.bytes.len()), (206, whole.len()));
    for silly in [
        "bytes=0-99999999999999999999999",
        "bytes=-99999999999999999999",
        "bytes=x-",
    ] {
        let r = download(&c, &c.obs1, photo, &[("Range", silly)]).await;
        assert_eq!((r.status, r.bytes.len()), (200, whole.len()), "{silly}");
    }
    download(
        &c,
        &c.obs1,
        photo,
        &[("Range", "bytes=18446744073709551615-")],
    )
    .await
    .assert_problem(416, "range_not_satisfiable");
    let tag = format!("\"{}\"", items[1]["sha256"].as_str().unwrap());
    assert_eq!(
        download(&c, &c.obs1, photo, &[("If-None-Match", &tag)])
            .await
            .status,
        304
    );
    // Thumbnails keep lists light; a PDF has none.
    let thumb = c
        .app
        .get(items[1]["thumbnail_url"].as_str().unwrap(), &c.obs1)
        .await;
    assert_eq!(thumb.status, 200);
    let t = image::load_from_memory(&thumb.bytes).unwrap();
    assert!(
        t.width() <= 320 && t.height() <= 320,
        "{}x{}",
        t.width(),
        t.height()
    );
    assert_eq!(items[4]["thumbnail_url"], Value::Null);
    c.app
        .get(
            &format!("/api/v1/attachments/{}/thumbnail", items[4]["id"]),
            &c.obs1,
        )
        .await
        .assert_problem(404, "no_thumbnail");
    // The timeline records each file.
    let kinds = c.event_kinds(&c.obs1, issue).await;
    assert_eq!(kinds.iter().filter(|k| *k == "attachment").count(), 5);
}

pub(crate) async fn stored_files(c: &County) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&c.app.data_dir().join("attachments")) + walk(&c.app.data_dir().join("tmp"))
}

async fn a_renamed_executable_is_refused_whatever_its_name(db: Db) {
    let c = County::new(db).await;
    let issue = c.file("可疑文件").await;
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
    elf.extend(std::iter::repeat_n(0x90, 5000));
    // A program named and declared as a photo or a PDF, a GIF, a Windows program.
    let refused: [(&str, &str, &[u8]); 4] = [
        ("photo.jpg", "image/jpeg", &elf),
        ("报告.pdf", "application/pdf", &elf),
        ("a.png", "image/png", b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0"),
        (
            "a.png",
            "image/png",
            b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0",
        ),
    ];
    for (name, declared, bytes) in refused {
        upload(&c, &c.obs1, issue, form(name, declared, bytes, &[]), &[])
            .await
            .assert_problem(415, "unsupported_file_type");
    }
    // Not multipart at all; no file field; an unknown field.
    let r = c
        .app
        .post(
            &format!("/api/v1/issues/{issue}/attachments"),
            Some(&c.obs1),
            json!({"file": "x"}),
        )
        .await;
    r.assert_problem(415, "unsupported_media_type");
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"keep_location\"\r\n\r\ntrue\r\n--{BOUNDARY}--\r\n"
    );
    upload(&c, &c.obs1, issue, body.into_bytes(), &[])
        .await
        .assert_problem(422, "validation_failed");
    upload(
        &c,
        &c.obs1,
        issue,
        form("a.png", "image/png", &png(), &[("gps", "1")]),
        &[],
    )
    .await
    .assert_problem(422, "validation_failed");
    upload(&c, &c.obs1, issue, b"--nonsense".to_vec(), &[])
        .await
        .assert_problem(400, "malformed_multipart");
    let list = c
        .app
        .get(&format!("/api/v1/issues/{issue}/attachments"), &c.obs1)
        .await;
    assert!(list.body["items"].as_array().unwrap().is_empty());
    assert_eq!(
        stored_files(&c).await,
        0,
        "nothing kept, no temporary file left"
    );
}

/// Sends the start of a request on a raw connection and reads the answer before the body
/// is finished: the server must answer without waiting for the rest.
pub(crate) fn early_answer(addr: &str, head: String, first_bytes: &[u8]) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(first_bytes);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).to_string()
}

async fn an_oversized_upload_is_refused_before_the_rest_is_read(db: Db) {
    let c = County::new_with(db, |s| s.max_upload_bytes = 64 * 1024).await;
    let issue = c.file("大文件").await;
    let addr = c.app.address.trim_start_matches("http://").to_string();
    let path = format!("/api/v1/issues/{issue}/attachments");
    // A declared 50 MiB: refused on the headers alone, with 20 bytes of the body sent.
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        c.obs1,
        50 * 1024 * 1024
    );
    let a = addr.clone();
    let answer = actix_web::rt::task::spawn_blocking(move || {
        early_answer(&a, head, b"--observer-desk-test")
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // Streamed without a length: refused once the cap is passed, the rest never sent.
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n",
        c.obs1
    );
    let mut start = form("big.png", "image/png", &png(), &[]);
    start.truncate(start.len() - 40);
    start.extend(std::iter::repeat_n(0u8, 100 * 1024));
    let mut chunked = format!("{:x}\r\n", start.len()).into_bytes();
    chunked.extend_from_slice(&start);
    chunked.extend_from_slice(b"\r\n");
    let a = addr.clone();
    let answer = actix_web::rt::task::spawn_blocking(move || early_answer(&a, head, &chunked))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("problem+json"), "{answer}");
    // Just under the cap is fine.
    let small = upload(
        &c,
        &c.obs1,
        issue,
        form("ok.pdf", "application/pdf", &pdf(), &[]),
        &[],
    )
    .await;
    small.assert_status(201);
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(stored_files(&c).await, 1, "only the accepted file is kept");
}

async fn gps_and_other_exif_are_gone_unless_the_observer_keeps_the_location(db: Db) {
    let c = County::new(db).await;
    let issue = c.file("带位置的照片").await;
    let sent = phone_photo(6);
    let tags = exif_fields(&sent);
    assert!(
        tags.contains(&exif::Tag::GPSLatitude),
        "the fixture carries a position: {tags:?}"
    );
    let r = upload(
        &c,
        &c.obs1,
        issue,
        form("IMG_2031.jpg", "image/jpeg", &sent, &[]),
        &[],
    )
    .await;
    let a = r.assert_status(201).clone();
    assert_eq!(a["location_kept"], false);
    let kept = download(&c, &c.obs1, a["id"].as_i64().unwrap(), &[])
        .await
        .bytes;
    let tags = exif_fields(&kept);
    assert!(
        !tags.iter().any(|t| [
            exif::Tag::GPSLatitude,
            exif::Tag::GPSLongitude,
            exif::Tag::GPSLatitudeRef
        ]
        .contains(t)),
        "{tags:?}"
    );
    assert_eq!(
        tags,
        vec![exif::Tag::Orientation],
        "only the orientation stays"
    );
    assert!(kept.len() < sent.len());
    use sha2::Digest;
    let sha = sha2::Sha256::digest(&kept)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    assert_eq!(a["sha256"], sha, "the hash is of what is kept");
    assert_eq!(a["size"], kept.len());
    image::load_from_memory(&kept).expect("still a valid JPEG");
    // The observer chose to attach the location: the photo is kept as sent.
    let r = upload(
        &c,
        &c.obs1,
        issue,
        form(
            "IMG_2032.jpg",
            "image/jpeg",
            &sent,
            &[("keep_location", "true")],
        ),
        &[],
    )
    .await;
    let a = r.assert_status(201).clone();
    assert_eq!(a["location_kept"], true);
    let kept = download(&c, &c.obs1, a["id"].as_i64().unwrap(), &[])
        .await
        .bytes;
    assert_eq!(kept, sent);
}

async fn only_those_who_see_the_issue_read_its_files(db: Db) {
    let c = County::new(db).await;
    let issue = c.file("谁能看").await;
    let a = upload(
        &c,
        &c.obs1,
        issue,
        form("p.png", "image/png", &png(), &[]),
        &[],
    )
    .await;
    let id = a.assert_status(201)["id"].as_i64().unwrap();
    // obs3 does not follow the project; department B never had the issue.
    for token in [&c.obs3, &c.staff_b] {
        download(&c, token, id, &[])
            .await
            .assert_problem(404, "not_found");
        c.app
            .get(&format!("/api/v1/attachments/{id}/thumbnail"), token)
            .await
            .assert_problem(404, "not_found");
        upload(
            &c,
            token,
            issue,
            form("p.png", "image/png", &png(), &[]),
            &[],
        )
        .await
        .assert_problem(404, "not_found");
    }
    // A follower reads it but does not add to someone else's report; the department does.
    assert_eq!(download(&c, &c.obs2, id, &[]).await.status, 200);
    upload(
        &c,
        &c.obs2,
        issue,
        form("p.png", "image/png", &png(), &[]),
        &[],
    )
    .await
    .assert_problem(403, "forbidden");
    // A file on an internal comment stays with the departments and supervisors.
    let note = c
        .app
        .post(
            &format!("/api/v1/issues/{issue}/comments"),
            Some(&c.staff_a),
            json!({ "body": "内部：见附件", "internal": true }),
        )
        .await;
    let note = note.assert_status(201)["id"].as_i64().unwrap().to_string();
    let r = upload(
        &c,
        &c.staff_a,
        issue,
        form(
            "内部.pdf",
            "application/pdf",
            &pdf(),
            &[("comment_id", &note)],
        ),
        &[],
    )
    .await;
    let internal = r.assert_status(201)["id"].as_i64().unwrap();
    assert_eq!(download(&c, &c.sup, internal, &[]).await.status, 200);
    download(&c, &c.obs1, internal, &[])
        .await
        .assert_problem(404, "not_found");
    let seen = c
        .app
        .get(&format!("/api/v1/issues/{issue}/attachments"), &c.obs1)
        .await;
    assert_eq!(seen.body["items"].as_array().unwrap().len(), 1);
    // Files go on one's own comments only.
    upload(
        &c,
        &c.obs1,
        issue,
        form("p.png", "image/png", &png(), &[("comment_id", &note)]),
        &[],
    )
    .await
    .assert_problem(422, "validation_failed");
}

async fn a_retried_upload_stores_one_file(db: Db) {
    let c = County::new(db).await;
    let issue = c.file("重传").await;
    let body = form("p.png", "image/png", &png(), &[]);
    let first = upload(
        &c,
        &c.obs1,
        issue,
        body.clone(),
        &[("Idempotency-Key", "photo-1")],
    )
    .await;
    let again = upload(&c, &c.obs1, issue, body, &[("Idempotency-Key", "photo-1")]).await;
    first.assert_status(201);
    assert_eq!((again.status, &again.text), (201, &first.text));
    let other = upload(
        &c,
        &c.obs1,
        issue,
        form("q.png", "image/png", &png(), &[]),
        &[("Idempotency-Key", "photo-1")],
    )
    .await;
    other.assert_problem(422, "idempotency_key_reused");
    let list = c
        .app
        .get(&format!("/api/v1/issues/{issue}/attachments"), &c.obs1)
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(stored_files(&c).await, 1, "the retry's copy was not kept");
}

async fn a_phone_registers_for_push_and_logging_out_removes_it(db: Db) {
    let c = County::new(db).await;
    let login = c.app.login("obs1", crate::helpers::PASSWORD).await;
    let (access, refresh) = (
        login.body["access_token"].as_str().unwrap().to_string(),
        login.body["refresh_token"].as_str().unwrap().to_string(),
    );
    let reg = json!({ "platform": "android", "push_token": "fcm:abc123", "app_version": "1.4.0" });
    let first = c
        .app
        .post("/api/v1/devices", Some(&access), reg.clone())
        .await;
    first.assert_status(201);
    crate::openapi::assert_matches_schema(&crate::openapi::spec(), "Device", &first.body);
    let again = c.app.post("/api/v1/devices", Some(&access), reg).await;
    again.assert_status(200);
    assert_eq!(again.body["id"], first.body["id"]);
    c.app
        .post(
            "/api/v1/devices",
            Some(&access),
            json!({ "platform": "symbian", "push_token": "" }),
        )
        .await
        .assert_problem(422, "validation_failed");
    let mine = c.app.get("/api/v1/devices", &access).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    // Nobody else sees or removes it.
    assert!(
        c.app.get("/api/v1/devices", &c.obs2).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    c.app
        .request(
            "DELETE",
            &format!("/api/v1/devices/{}", first.body["id"]),
            Some(&c.obs2),
            None,
        )
        .await
        .assert_problem(404, "not_found");
    // Logging out with the push token takes the device away with the session.
    c.app
        .post(
            "/api/v1/auth/logout",
            None,
            json!({ "refresh_token": refresh, "push_token": "fcm:abc123" }),
        )
        .await
        .assert_status(204);
    assert!(
        c.app.get("/api/v1/devices", &c.obs1).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // And a device can be removed directly.
    let d = c
        .app
        .post(
            "/api/v1/devices",
            Some(&c.obs1),
            json!({ "platform": "ios", "push_token": "apns:1" }),
        )
        .await;
    let r = c
        .app
        .request(
            "DELETE",
            &format!("/api/v1/devices/{}", d.body["id"]),
            Some(&c.obs1),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
}

/// The TIFF part of the EXIF block with a GPS position (what PNG and WebP carry).
fn tiff_with_gps() -> Vec<u8> {
    exif_with_gps(1)[10..].to_vec()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    let mut typed = kind.to_vec();
    typed.extend_from_slice(data);
    c.extend_from_slice(&typed);
    c.extend_from_slice(&crc32(&typed).to_be_bytes());
    c
}

/// A PNG with an `eXIf` chunk (GPS) and an XMP text chunk right after its header.
fn png_with_gps() -> Vec<u8> {
    let plain = png();
    let header_end = 8 + 8 + 13 + 4;
    let mut out = plain[..header_end].to_vec();
    out.extend(png_chunk(b"eXIf", &tiff_with_gps()));
    out.extend(png_chunk(
        b"iTXt",
        b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>GPS</x:xmpmeta>",
    ));
    out.extend_from_slice(&plain[header_end..]);
    out
}

fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = kind.to_vec();
    c.extend((data.len() as u32).to_le_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// An extended WebP: `VP8X` announcing EXIF and XMP, the image, then both metadata chunks.
fn webp_with_gps() -> Vec<u8> {
    let simple = webp();
    let (w, h) = (64u32 - 1, 48u32 - 1);
    let mut vp8x = vec![0x08 | 0x04, 0, 0, 0];
    vp8x.extend_from_slice(&w.to_le_bytes()[..3]);
    vp8x.extend_from_slice(&h.to_le_bytes()[..3]);
    let body = [
        riff_chunk(b"VP8X", &vp8x),
        simple[12..].to_vec(),
        riff_chunk(b"EXIF", &tiff_with_gps()),
        riff_chunk(b"XMP ", b"<x:xmpmeta>GPS</x:xmpmeta>"),
    ]
    .concat();
    let mut out = b"RIFF".to_vec();
    out.extend(((body.len() + 4) as u32).to_le_bytes());
    out.extend(b"WEBP");
    out.extend(body);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn png_and_webp_photos_lose_their_position_too(db: Db) {
    let c = County::new(db).await;
    let issue = c.file("PNG 与 WebP").await;
    for (name, sent) in [
        ("screen.png", png_with_gps()),
        ("photo.webp", webp_with_gps()),
    ] {
        assert!(
            exif_fields(&sent).contains(&exif::Tag::GPSLatitude),
            "the {name} fixture carries a position"
        );
        assert!(
            image::load_from_memory(&sent).is_ok(),
            "{name} fixture decodes"
        );
        let r = upload(&c, &c.obs1, issue, form(name, "image/png", &sent, &[]), &[]).await;
        let a = r.assert_status(201).clone();
        assert_eq!(a["location_kept"], false);
        let kept = download(&c, &c.obs1, a["id"].as_i64().unwrap(), &[])
            .await
            .bytes;
        assert!(
            exif_fields(&kept).is_empty(),
            "{name}: {:?}",
            exif_fields(&kept)
        );
        assert!(
            !contains(&kept, b"xmpmeta") && !contains(&kept, &tiff_with_gps()),
            "{name}"
        );
        assert_eq!(a["size"], kept.len());
        let before = image::load_from_memory(&sent).unwrap().to_rgba8();
        let after = image::load_from_memory(&kept)
            .expect("still a valid image")
            .to_rgba8();
        assert_eq!(before, after, "{name}: the pixels are untouched");
        // Kept as sent when the observer chooses so.
        let r = upload(
            &c,
            &c.obs1,
            issue,
            form(name, "image/png", &sent, &[("keep_location", "true")]),
            &[],
        )
        .await;
        let kept = download(
            &c,
            &c.obs1,
            r.assert_status(201)["id"].as_i64().unwrap(),
            &[],
        )
        .await
        .bytes;
        assert_eq!(kept, sent);
    }
}

async fn a_heic_photo_is_refused_unless_the_observer_keeps_the_location(db: Db) {
    let c = County::new(db).await;
    let issue = c.file("iPhone").await;
    upload(
        &c,
        &c.obs1,
        issue,
        form("IMG_0001.HEIC", "image/heic", &heic(), &[]),
        &[],
    )
    .await
    .assert_problem(422, "location_not_removable");
    let listed = c
        .app
        .get(&format!("/api/v1/issues/{issue}/attachments"), &c.obs1)
        .await;
    assert_eq!(listed.body["items"], json!([]));
    let tmp = c.app.data_dir().join("tmp");
    let left = std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "a temp file was left in {}", tmp.display());
}

/// A PNG header declaring `w`×`h` pixels, with a few bytes of (unusable) image data.
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(png_chunk(b"IEND", b""));
    out
}

async fn an_image_declaring_more_than_fifty_megapixels_is_refused_before_it_is_drawn(db: Db) {
    let c = County::new(db).await;
    let issue = c.file("炸弹").await;
    for (w, h) in [(20_000, 20_000), (50_001, 1_000)] {
        upload(
            &c,
            &c.obs1,
            issue,
            form("bomb.png", "image/png", &png_declaring(w, h), &[]),
            &[],
        )
        .await
        .assert_problem(422, "image_too_large");
    }
    // Kept location or not, the limit holds.
    upload(
        &c,
        &c.obs1,
        issue,
        form(
            "bomb.png",
            "image/png",
            &png_declaring(20_000, 20_000),
            &[("keep_location", "true")],
        ),
        &[],
    )
    .await
    .assert_problem(422, "image_too_large");
    // Just under it is accepted (its thumbnail then fails cleanly: the data is not there).
    let r = upload(
        &c,
        &c.obs1,
        issue,
        form("big.png", "image/png", &png_declaring(7_000, 7_000), &[]),
        &[],
    )
    .await;
    let id = r.assert_status(201)["id"].as_i64().unwrap();
    let thumb = c
        .app
        .get(&format!("/api/v1/attachments/{id}/thumbnail"), &c.obs1)
        .await;
    assert!(thumb.status < 500, "{}", thumb.text);
}

async fn a_start_sweeps_away_temp_files_and_objects_no_row_points_at(db: Db) {
    let c = County::new_with(db, |s| s.orphan_grace = Duration::ZERO).await;
    let issue = c.file("sweep").await;
    let kept = upload(
        &c,
        &c.obs1,
        issue,
        form("a.png", "image/png", &png(), &[]),
        &[],
    )
    .await;
    let id = kept.assert_status(201)["id"].as_i64().unwrap();
    // What a crash between storing and committing, or in the middle of receiving, leaves.
    let data = c.app.data_dir().to_path_buf();
    std::fs::create_dir_all(data.join("attachments/2026/12")).unwrap();
    std::fs::write(
        data.join("attachments/2026/12/orphan"),
        b"bytes of a lost upload",
    )
    .unwrap();
    std::fs::create_dir_all(data.join("tmp")).unwrap();
    std::fs::write(data.join("tmp/upload-crashed"), b"half a photo").unwrap();
    assert_eq!(stored_files(&c).await, 3);
    let c = c.restart_after(Duration::from_millis(10)).await;
    assert!(!data.join("attachments/2026/12/orphan").exists());
    assert!(!data.join("tmp/upload-crashed").exists());
    assert_eq!(stored_files(&c).await, 1, "the real attachment stays");
    let got = download(&c, &c.obs1, id, &[]).await;
    assert_eq!(got.bytes, png());
}
