//! Uploaded files: their size limit, their type, and where they are kept.
//!
//! What this module promises:
//! - A file is at most [`MAX_UPLOAD`] bytes (20 MiB): exactly that is accepted, one byte
//!   more is refused, and [`read_field`] stops at the first chunk that would pass the
//!   limit. The bound on memory also needs the route's body limit: axum's `Multipart`
//!   buffers whatever the connection has ready before handing out a chunk, so the upload
//!   route must keep `DefaultBodyLimit::max(MAX_UPLOAD_BODY)`; with it, neither a large
//!   nor a chunked body is read past [`MAX_UPLOAD_BODY`] (tested).
//! - The type comes from the content ([`sniff`]), never from the declared type or the
//!   name: PDF, JPEG, PNG, GIF, WebP, TIFF, BMP, HEIC/HEIF, or a ZIP archive whose every
//!   file is one of those. An archive is judged entry by entry from at most
//!   [`ENTRY_SNIFF_BYTES`] of each (a compression bomb costs nothing) and at most
//!   [`MAX_ARCHIVE_ENTRIES`] entries; encrypted entries, archives inside the archive and
//!   entries whose path climbs out of the archive (`../`) are refused, and so is an archive
//!   that says it unpacks to a file over [`MAX_UPLOAD`] or to more than
//!   [`MAX_ARCHIVE_UNPACKED`] in all (a bomb for whoever opens it). macOS metadata
//!   (`__MACOSX/._*` AppleDouble files, `.DS_Store`) is let through once its content is
//!   checked to be that metadata, since Finder adds it to every archive it makes.
//! - [`BlobStore`] keeps each content once, under its SHA-256
//!   (`<data_dir>/blobs/<first 2 hex>/<sha256>`). A blob is written to a temporary file in
//!   the same folder, flushed to disk, renamed into place and the folder flushed: a reader
//!   never sees part of a blob, and a crash leaves at most a stray `.tmp-*` file. Putting
//!   the same content again changes nothing.

use std::fs;
use std::io::{self, Cursor, Read, Write};
use std::path::{Path, PathBuf};

use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::ZipArchive;

use crate::problem::{ApiError, MediaRefusal};

/// The largest file accepted, in bytes: 20 MiB.
pub const MAX_UPLOAD: u64 = 20 * 1024 * 1024;
/// The body limit of the upload route: one file and its multipart framing.
pub const MAX_UPLOAD_BODY: u64 = MAX_UPLOAD + 64 * 1024;
/// Bytes read from each archive entry to judge its type.
pub const ENTRY_SNIFF_BYTES: u64 = 64 * 1024;
/// The most an archive may unpack to, all its files together: ten files of the largest
/// size.
pub const MAX_ARCHIVE_UNPACKED: u64 = 10 * MAX_UPLOAD;
/// Entries an archive may have, directories included.
pub const MAX_ARCHIVE_ENTRIES: usize = 1000;
/// The longest file name kept, in bytes (what file systems allow).
pub const MAX_FILENAME_BYTES: usize = 255;
/// The name given to a file whose name has nothing left once cleaned.
pub const FALLBACK_FILENAME: &str = "attachment";

/// The media types accepted as files or as archive entries.
pub const ACCEPTED: &[&str] = &[
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/tiff",
    "image/bmp",
    "image/heif",
];
/// The media type of a ZIP archive.
pub const ZIP: &str = "application/zip";

/// Why an upload is refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Over the size limit: 413.
    #[error("file larger than {max} bytes")]
    TooLarge { max: u64 },
    /// A type refused after looking at the content: 415.
    #[error("file refused: {0:?}")]
    Refused(MediaRefusal),
    /// The multipart body broke off or is malformed: 400.
    #[error("multipart body unreadable")]
    Multipart(#[source] MultipartError),
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> ApiError {
        match error {
            UploadError::TooLarge { .. } => ApiError::PayloadTooLarge,
            UploadError::Refused(refusal) => ApiError::UnsupportedMediaType(refusal),
            UploadError::Multipart(error) => ApiError::from(error),
        }
    }
}

/// The media type of a file, judged from its content; an archive is accepted only if
/// each of its files is.
pub fn sniff(bytes: &[u8]) -> Result<&'static str, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Refused(MediaRefusal::Empty));
    }
    if bytes.len() as u64 > MAX_UPLOAD {
        return Err(UploadError::TooLarge { max: MAX_UPLOAD });
    }

    match detect(bytes) {
        Some(ZIP) => {
            check_archive(bytes)?;
            Ok(ZIP)
        }
        Some(media_type) if ACCEPTED.contains(&media_type) => Ok(media_type),
        detected => Err(UploadError::Refused(MediaRefusal::FileType { detected })),
    }
}

fn detect(bytes: &[u8]) -> Option<&'static str> {
    infer::get(bytes).map(|kind| kind.mime_type())
}

fn check_archive(bytes: &[u8]) -> Result<(), UploadError> {
    let unreadable = |error: &dyn std::fmt::Display| {
        tracing::debug!(error = %error, "unreadable archive");
        UploadError::Refused(MediaRefusal::ArchiveUnreadable)
    };
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    if archive.len() > MAX_ARCHIVE_ENTRIES {
        return Err(unreadable(&format!("{} entries", archive.len())));
    }

    let mut files = 0;
    let mut unpacked: u64 = 0;
    for index in 0..archive.len() {
        let (name, is_dir, encrypted, enclosed, size) = {
            let entry = archive.by_index_raw(index).map_err(|e| unreadable(&e))?;
            let enclosed = entry.enclosed_name().is_some();
            (
                entry.name().to_owned(),
                entry.is_dir(),
                entry.encrypted(),
                enclosed,
                entry.size(),
            )
        };
        unpacked = unpacked.saturating_add(size);
        if size > MAX_UPLOAD || unpacked > MAX_ARCHIVE_UNPACKED {
            let name = sanitize_filename(&name);
            return Err(UploadError::Refused(MediaRefusal::ArchiveTooLarge { name }));
        }
        if encrypted {
            return Err(UploadError::Refused(MediaRefusal::ArchiveEncrypted));
        }
        let refused_entry = |detected| {
            let name = sanitize_filename(&name);
            UploadError::Refused(MediaRefusal::ArchiveEntry { name, detected })
        };
        if !enclosed {
            return Err(refused_entry(None));
        }
        if is_dir {
            continue;
        }

        let mut head = Vec::new();
        let entry = archive.by_index(index).map_err(|e| unreadable(&e))?;
        entry
            .take(ENTRY_SNIFF_BYTES)
            .read_to_end(&mut head)
            .map_err(|e| unreadable(&e))?;
        if is_macos_metadata(&name, &head) {
            continue;
        }
        files += 1;
        match detect(&head) {
            Some(ZIP) => {
                let name = sanitize_filename(&name);
                return Err(UploadError::Refused(MediaRefusal::ArchiveNested { name }));
            }
            Some(media_type) if ACCEPTED.contains(&media_type) => {}
            detected => return Err(refused_entry(detected)),
        }
    }
    if files == 0 {
        return Err(unreadable(&"no file in the archive"));
    }
    Ok(())
}

/// Finder's AppleDouble resource files and folder settings, recognised by their content.
fn is_macos_metadata(name: &str, head: &[u8]) -> bool {
    const APPLE_DOUBLE: &[u8] = &[0x00, 0x05, 0x16, 0x07];
    const DS_STORE: &[u8] = b"\x00\x00\x00\x01Bud1";
    let file = name.rsplit('/').next().unwrap_or_default();
    (name.starts_with("__MACOSX/") && file.starts_with("._") && head.starts_with(APPLE_DOUBLE))
        || (file == ".DS_Store" && head.starts_with(DS_STORE))
}

/// Reads a multipart field whole, refusing it as soon as it passes [`MAX_UPLOAD`].
pub async fn read_field(field: Field<'_>) -> Result<Bytes, UploadError> {
    read_field_limited(field, MAX_UPLOAD).await
}

/// Reads a multipart field whole, refusing it as soon as it passes `limit` bytes. The
/// buffer never holds, nor reserves, more than `limit` bytes.
pub async fn read_field_limited(mut field: Field<'_>, limit: u64) -> Result<Bytes, UploadError> {
    let limit_bytes = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            // The body limit of the router was hit: the file is too large all the same.
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(UploadError::TooLarge { max: limit })
            }
            Err(error) => return Err(UploadError::Multipart(error)),
        };
        let needed = buffer.len() + chunk.len();
        if needed > limit_bytes {
            return Err(UploadError::TooLarge { max: limit });
        }
        if needed > buffer.capacity() {
            let grown = needed.max(buffer.capacity() * 2).min(limit_bytes);
            buffer.reserve_exact(grown - buffer.len());
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buffer))
}

/// A file name fit to keep and show: its last path component, without control or bidi
/// override characters nor characters that file systems refuse, trimmed of spaces and
/// dots, at most [`MAX_FILENAME_BYTES`] bytes with its extension kept, and
/// [`FALLBACK_FILENAME`] when nothing is left. Letters of any script are kept.
pub fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last
        .chars()
        .filter(|&c| !is_unsafe_in_filename(c))
        .collect();
    let trimmed = kept.trim_matches(|c: char| c.is_whitespace() || c == '.');
    if trimmed.is_empty() {
        return FALLBACK_FILENAME.to_owned();
    }
    if trimmed.len() <= MAX_FILENAME_BYTES {
        return trimmed.to_owned();
    }

    let (stem, extension) = match trimmed.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 => (stem, Some(ext)),
        _ => (trimmed, None),
    };
    let room = MAX_FILENAME_BYTES - extension.map_or(0, |ext| ext.len() + 1);
    let mut end = room.min(stem.len());
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    match extension {
        Some(ext) => format!("{}.{ext}", &stem[..end]),
        None => stem[..end].to_owned(),
    }
}

/// `filename` with an extension that says what the content is: a PDF sent as `x.exe` is kept
/// as `x.exe.pdf`, so that whoever downloads it opens it with the right program.
pub fn name_for_content(filename: &str, media_type: &str) -> String {
    let known: &[&str] = match media_type {
        "application/pdf" => &["pdf"],
        "image/jpeg" => &["jpg", "jpeg", "jpe"],
        "image/png" => &["png"],
        "image/gif" => &["gif"],
        "image/webp" => &["webp"],
        "image/tiff" => &["tif", "tiff"],
        "image/bmp" => &["bmp"],
        "image/heif" => &["heic", "heif"],
        "application/zip" => &["zip"],
        _ => return filename.to_owned(),
    };
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    if extension.is_some_and(|ext| known.contains(&ext.as_str())) {
        filename.to_owned()
    } else {
        format!("{filename}.{}", known[0])
    }
}

fn is_unsafe_in_filename(c: char) -> bool {
    c.is_control()
        || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*')
        // Bidi embeddings, overrides and isolates can disguise `exe.pdf` as `fdp.exe`.
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
        || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// A blob as stored: its id (SHA-256, lower-case hex) and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
}

/// Why a blob could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The id is not 64 lower-case hex digits (a path trick, or a corrupt record).
    #[error("not a blob id: {0:?}")]
    InvalidId(String),
    #[error("no blob {0}")]
    NotFound(String),
    #[error("blob store input/output")]
    Io(#[from] io::Error),
}

impl From<BlobError> for ApiError {
    fn from(error: BlobError) -> ApiError {
        match error {
            BlobError::InvalidId(_) | BlobError::NotFound(_) => ApiError::NotFound,
            BlobError::Io(_) => ApiError::internal(error),
        }
    }
}

/// Content-addressed files under `<data_dir>/blobs`.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// The store under `data_dir`, whose `blobs` folder is created if missing.
    pub fn new(data_dir: impl AsRef<Path>) -> io::Result<BlobStore> {
        let root = data_dir.as_ref().join("blobs");
        fs::create_dir_all(&root)?;
        Ok(BlobStore { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `sha256` lives (whether or not it exists).
    pub fn path_of(&self, sha256: &str) -> Result<PathBuf, BlobError> {
        let valid = sha256.len() == 64
            && sha256
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
        if !valid {
            let shown: String = sha256.chars().take(80).collect();
            return Err(BlobError::InvalidId(shown));
        }
        Ok(self.root.join(&sha256[..2]).join(sha256))
    }

    /// Stores `bytes` and gives their id; storing known content again only returns its id.
    pub async fn put(&self, bytes: &[u8]) -> Result<StoredBlob, BlobError> {
        let root = self.root.clone();
        let owned = bytes.to_vec();
        tokio::task::spawn_blocking(move || write_blob(&root, &owned))
            .await
            .map_err(io::Error::other)?
    }

    /// Opens the blob `sha256` for reading.
    pub async fn open(&self, sha256: &str) -> Result<tokio::fs::File, BlobError> {
        let path = self.path_of(sha256)?;
        match tokio::fs::File::open(&path).await {
            Ok(file) => Ok(file),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(BlobError::NotFound(sha256.to_owned()))
            }
            Err(e) => Err(BlobError::Io(e)),
        }
    }
}

fn write_blob(root: &Path, bytes: &[u8]) -> Result<StoredBlob, BlobError> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let size = bytes.len() as u64;
    let dir = root.join(&sha256[..2]);
    let path = dir.join(&sha256);
    if fs::metadata(&path).is_ok_and(|meta| meta.is_file() && meta.len() == size) {
        return Ok(StoredBlob { sha256, size });
    }

    if !dir.is_dir() {
        fs::create_dir_all(&dir)?;
        sync_dir(root)?;
    }
    let temporary = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, &path)?;
        sync_dir(&dir)
    })();
    if let Err(error) = written {
        let _ = fs::remove_file(&temporary);
        return Err(BlobError::Io(error));
    }
    tracing::debug!(sha256, size, "blob stored");
    Ok(StoredBlob { sha256, size })
}

/// Makes a folder's new entries durable (a rename is not, until its folder is flushed).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod content_names {
    use super::name_for_content;

    #[test]
    fn the_extension_follows_the_content() {
        assert_eq!(name_for_content("x.exe", "application/pdf"), "x.exe.pdf");
        assert_eq!(name_for_content("scan.PDF", "application/pdf"), "scan.PDF");
        assert_eq!(name_for_content("photo.jpeg", "image/jpeg"), "photo.jpeg");
        assert_eq!(name_for_content("photo.png", "image/jpeg"), "photo.png.jpg");
        assert_eq!(name_for_content("شهادة", "application/pdf"), "شهادة.pdf");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use axum::body::{to_bytes, Body};
    use axum::extract::{DefaultBodyLimit, Multipart};
    use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_TYPE};
    use axum::http::Request;
    use axum::response::Response;
    use axum::routing::post;
    use axum::Router;
    use serde_json::Value;
    use tower::ServiceExt;
    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipWriter};

    use super::*;

    /// A small but complete PDF: header, catalog, pages, one page, cross-reference table.
    fn pdf() -> Vec<u8> {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for offset in offsets {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
        );
        out
    }

    /// A real PNG, 4×3 grey pixels, from the `png` encoder.
    fn png() -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, 4, 3);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("header");
        writer.write_image_data(&[0x80; 12]).expect("pixels");
        writer.finish().expect("finish");
        out
    }

    /// A 1×1 GIF, written out by hand.
    fn gif() -> Vec<u8> {
        let mut out = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
        out.extend_from_slice(b"\x00\x00\x00\xff\xff\xff");
        out.extend_from_slice(b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b");
        out
    }

    const HTML: &[u8] = b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n";
    const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    const EXE: &[u8] =
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run";

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content) in entries {
            if name.ends_with('/') {
                writer
                    .add_directory(*name, SimpleFileOptions::default())
                    .expect("dir");
            } else {
                writer
                    .start_file(*name, SimpleFileOptions::default())
                    .expect("entry");
                writer.write_all(content).expect("write");
            }
        }
        writer.finish().expect("zip").into_inner()
    }

    fn refusal(result: Result<&'static str, UploadError>) -> MediaRefusal {
        match result {
            Err(UploadError::Refused(refusal)) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn accepted_types_are_recognised_from_their_content() {
        assert_eq!(sniff(&pdf()).ok(), Some("application/pdf"));
        assert_eq!(sniff(&png()).ok(), Some("image/png"));
        assert_eq!(sniff(&gif()).ok(), Some("image/gif"));
        let jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9";
        assert_eq!(sniff(jpeg).ok(), Some("image/jpeg"));
        assert_eq!(
            sniff(b"II*\x00\x08\x00\x00\x00\x00\x00").ok(),
            Some("image/tiff")
        );
        assert_eq!(
            sniff(b"RIFF\x24\x00\x00\x00WEBPVP8 ").ok(),
            Some("image/webp")
        );
        let bmp = b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00";
        assert_eq!(sniff(bmp).ok(), Some("image/bmp"));
        let heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x00\x00";
        assert_eq!(sniff(heic).ok(), Some("image/heif"));
    }

    #[test]
    fn anything_else_is_refused_whatever_its_name() {
        // F13: an HTML page sent as photo.png: the name and declared type are not looked at.
        for content in [
            HTML,
            SVG,
            EXE,
            b"just some text\n".as_slice(),
            b"\x7fELF\x02\x01\x01",
        ] {
            assert!(
                matches!(refusal(sniff(content)), MediaRefusal::FileType { .. }),
                "{:?}",
                String::from_utf8_lossy(content)
            );
        }
        assert_eq!(refusal(sniff(b"")), MediaRefusal::Empty);
        let gzip = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";
        assert!(matches!(
            refusal(sniff(gzip)),
            MediaRefusal::FileType { .. }
        ));
    }

    #[test]
    fn an_archive_of_accepted_files_is_accepted() {
        let archive = zip_of(&[
            ("scans/", b""),
            ("scans/page1.png", &png()),
            ("cert.pdf", &pdf()),
        ]);
        assert_eq!(sniff(&archive).ok(), Some(ZIP));
        let arabic = zip_of(&[("شهادة.png", &png())]);
        assert_eq!(sniff(&arabic).ok(), Some(ZIP));
    }

    #[test]
    fn an_archive_with_a_refused_file_is_refused() {
        let archive = zip_of(&[("page1.png", &png()), ("setup.exe", EXE)]);
        assert_eq!(
            refusal(sniff(&archive)),
            MediaRefusal::ArchiveEntry {
                name: "setup.exe".into(),
                detected: infer::get(EXE).map(|k| k.mime_type())
            }
        );
        let disguised = zip_of(&[("photo.png", HTML)]);
        let refused = refusal(sniff(&disguised));
        assert!(matches!(&refused, MediaRefusal::ArchiveEntry { name, .. } if name == "photo.png"));
        let empty_entry = zip_of(&[("page1.png", &png()), ("empty.png", b"")]);
        assert!(matches!(
            refusal(sniff(&empty_entry)),
            MediaRefusal::ArchiveEntry { .. }
        ));
    }

    #[test]
    fn nested_encrypted_empty_and_climbing_archives_are_refused() {
        let inner = zip_of(&[("page1.png", &png())]);
        let nested = zip_of(&[("inner.zip", &inner)]);
        assert_eq!(
            refusal(sniff(&nested)),
            MediaRefusal::ArchiveNested {
                name: "inner.zip".into()
            }
        );

        // Sets the "encrypted" flag of every entry, in its local and central headers.
        let mut encrypted = zip_of(&[("page1.png", &png())]);
        for (signature, flag_offset) in [(b"PK\x03\x04", 6), (b"PK\x01\x02", 8)] {
            let at = encrypted
                .windows(4)
                .position(|w| w == signature)
                .expect("header");
            encrypted[at + flag_offset] |= 1;
        }
        assert_eq!(refusal(sniff(&encrypted)), MediaRefusal::ArchiveEncrypted);

        assert_eq!(
            refusal(sniff(&zip_of(&[]))),
            MediaRefusal::ArchiveUnreadable
        );
        assert_eq!(
            refusal(sniff(&zip_of(&[("only/", b"")]))),
            MediaRefusal::ArchiveUnreadable
        );
        let climbing = zip_of(&[("../../etc/cron.d/page.png", &png())]);
        assert!(matches!(
            refusal(sniff(&climbing)),
            MediaRefusal::ArchiveEntry { .. }
        ));
        let mut truncated = zip_of(&[("page1.png", &png())]);
        truncated.truncate(truncated.len() - 10);
        assert_eq!(refusal(sniff(&truncated)), MediaRefusal::ArchiveUnreadable);
    }

    #[test]
    fn too_many_entries_are_refused() {
        let png = png();
        let names: Vec<String> = (0..=MAX_ARCHIVE_ENTRIES)
            .map(|i| format!("p{i}.png"))
            .collect();
        let entries: Vec<(&str, &[u8])> =
            names.iter().map(|n| (n.as_str(), png.as_slice())).collect();
        assert_eq!(
            refusal(sniff(&zip_of(&entries))),
            MediaRefusal::ArchiveUnreadable
        );
        assert_eq!(
            sniff(&zip_of(&entries[..MAX_ARCHIVE_ENTRIES])).ok(),
            Some(ZIP)
        );
    }

    #[test]
    fn macos_metadata_passes_only_when_it_is_metadata() {
        let apple_double = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ";
        let finder = zip_of(&[
            ("page1.png", &png()),
            ("__MACOSX/", b""),
            ("__MACOSX/._page1.png", apple_double),
            (".DS_Store", b"\x00\x00\x00\x01Bud1\x00\x00\x10\x00"),
        ]);
        assert_eq!(sniff(&finder).ok(), Some(ZIP));
        let disguised = zip_of(&[("page1.png", &png()), ("__MACOSX/._run", EXE)]);
        assert!(matches!(
            refusal(sniff(&disguised)),
            MediaRefusal::ArchiveEntry { .. }
        ));
        assert_eq!(
            refusal(sniff(&zip_of(&[("__MACOSX/._a", apple_double)]))),
            MediaRefusal::ArchiveUnreadable
        );
    }

    #[test]
    fn only_the_head_of_an_entry_is_read() {
        // A stored entry whose tail is corrupted after the fact: reading it whole fails its
        // checksum; judging it from its head does not read that far.
        let mut content = png();
        content.resize(1024 * 1024, 0);
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        writer.start_file("big.png", options).expect("entry");
        writer.write_all(&content).expect("write");
        let mut archive = writer.finish().expect("zip").into_inner();
        let data_start = archive
            .windows(8)
            .position(|w| w == b"\x89PNG\r\n\x1a\n")
            .expect("png");
        archive[data_start + 900 * 1024] ^= 0xff;

        let mut whole = Vec::new();
        let mut reader = ZipArchive::new(Cursor::new(&archive)).expect("zip");
        let read_whole = reader.by_index(0).expect("entry").read_to_end(&mut whole);
        assert!(read_whole.is_err(), "the corruption is real");
        assert_eq!(sniff(&archive).ok(), Some(ZIP));
    }

    #[test]
    fn a_compression_bomb_is_refused_from_its_directory_alone() {
        // 25 MiB of zeros after a PNG signature deflate to a few tens of kilobytes.
        let mut content = png();
        content.resize(25 * 1024 * 1024, 0);
        let archive = zip_of(&[("bomb.png", &content), ("bomb2.png", &content)]);
        assert!(archive.len() < 200 * 1024, "{} bytes", archive.len());
        assert_eq!(
            refusal(sniff(&archive)),
            MediaRefusal::ArchiveTooLarge {
                name: "bomb.png".into()
            }
        );

        // Exactly the largest file is accepted; eleven of them are too much in all.
        content.truncate(MAX_UPLOAD as usize);
        assert_eq!(sniff(&zip_of(&[("page.png", &content)])).ok(), Some(ZIP));
        let names: Vec<String> = (0..11).map(|i| format!("page{i}.png")).collect();
        let entries: Vec<(&str, &[u8])> = names
            .iter()
            .map(|name| (name.as_str(), content.as_slice()))
            .collect();
        assert!(matches!(
            refusal(sniff(&zip_of(&entries))),
            MediaRefusal::ArchiveTooLarge { .. }
        ));
    }

    #[test]
    fn file_names_are_cleaned_but_keep_their_script() {
        let cases = [
            ("facture.pdf", "facture.pdf"),
            ("../../etc/passwd", "passwd"),
            (
                "C:\\Users\\amal\\Documents\\شهادة سلبية.pdf",
                "شهادة سلبية.pdf",
            ),
            ("a\u{0}b\nc\r.pdf", "abc.pdf"),
            ("invoice\u{202E}fdp.exe", "invoicefdp.exe"),
            ("what?<is>\"this\"|*.png", "whatisthis.png"),
            ("  ..hidden.png. ", "hidden.png"),
            ("", FALLBACK_FILENAME),
            ("..", FALLBACK_FILENAME),
            ("dir/", FALLBACK_FILENAME),
            ("\u{200B}\u{FEFF}", FALLBACK_FILENAME),
        ];
        for (name, expected) in cases {
            assert_eq!(sanitize_filename(name), expected, "{name:?}");
        }

        let long = format!("{}.pdf", "ش".repeat(300));
        let cleaned = sanitize_filename(&long);
        assert!(cleaned.len() <= MAX_FILENAME_BYTES, "{}", cleaned.len());
        assert!(cleaned.ends_with("ش.pdf"), "{cleaned}");
        let no_extension = "x".repeat(400);
        assert_eq!(sanitize_filename(&no_extension).len(), MAX_FILENAME_BYTES);
    }

    #[tokio::test]
    async fn blobs_are_stored_once_under_their_hash() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = BlobStore::new(dir.path()).expect("store");
        let content = pdf();
        let expected = hex::encode(Sha256::digest(&content));

        let first = store.put(&content).await.expect("put");
        assert_eq!(
            first,
            StoredBlob {
                sha256: expected.clone(),
                size: content.len() as u64
            }
        );
        let path = dir
            .path()
            .join("blobs")
            .join(&expected[..2])
            .join(&expected);
        assert_eq!(fs::read(&path).expect("blob file"), content);
        let modified = fs::metadata(&path)
            .expect("meta")
            .modified()
            .expect("mtime");

        let second = store.put(&content).await.expect("put again");
        assert_eq!(second, first);
        assert_eq!(
            fs::metadata(&path)
                .expect("meta")
                .modified()
                .expect("mtime"),
            modified
        );
        let shard: Vec<_> = fs::read_dir(path.parent().expect("shard"))
            .expect("ls")
            .collect();
        assert_eq!(shard.len(), 1, "no temporary file left behind");

        let mut opened = store.open(&expected).await.expect("open");
        let mut read = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut opened, &mut read)
            .await
            .expect("read");
        assert_eq!(read, content);
    }

    #[tokio::test]
    async fn a_damaged_blob_is_rewritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = BlobStore::new(dir.path()).expect("store");
        let stored = store.put(b"%PDF-1.4 short").await.expect("put");
        let path = store.path_of(&stored.sha256).expect("path");
        fs::write(&path, b"%PDF").expect("truncate");
        store.put(b"%PDF-1.4 short").await.expect("put again");
        assert_eq!(fs::read(&path).expect("read"), b"%PDF-1.4 short");
    }

    #[tokio::test]
    async fn blob_ids_cannot_leave_the_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = BlobStore::new(dir.path()).expect("store");
        for id in [
            "../../etc/passwd",
            "",
            "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789",
            &"a".repeat(63),
            &"a".repeat(65),
            &format!("../{}", "a".repeat(61)),
        ] {
            assert!(
                matches!(store.open(id).await, Err(BlobError::InvalidId(_))),
                "{id}"
            );
        }
        let unknown = "0".repeat(64);
        assert!(matches!(
            store.open(&unknown).await,
            Err(BlobError::NotFound(_))
        ));
        assert_eq!(
            ApiError::from(BlobError::NotFound(unknown)).status(),
            StatusCode::NOT_FOUND
        );
    }

    // --- the multipart reader, behind a real router ---

    const BOUNDARY: &str = "claimdesk-test-boundary";

    async fn upload(
        multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
    ) -> Result<String, ApiError> {
        let mut multipart = multipart?;
        let field = multipart
            .next_field()
            .await?
            .ok_or(ApiError::BadRequest("no_file"))?;
        let bytes = read_field(field).await?;
        let media_type = sniff(&bytes)?;
        Ok(format!("{} {media_type}", bytes.len()))
    }

    fn app(body_limit: usize) -> Router {
        Router::new()
            .route("/uploads", post(upload))
            .layer(DefaultBodyLimit::max(body_limit))
            .layer(axum::middleware::from_fn(crate::i18n::language_scope))
    }

    fn multipart_head(filename: &str, content_type: &str) -> Vec<u8> {
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .into_bytes()
    }

    fn multipart_tail() -> Vec<u8> {
        format!("\r\n--{BOUNDARY}--\r\n").into_bytes()
    }

    fn request(body: Body, lang: &str) -> Request<Body> {
        Request::post("/uploads")
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header(ACCEPT_LANGUAGE, lang)
            .body(body)
            .expect("request")
    }

    fn whole(content: &[u8], filename: &str, content_type: &str) -> Body {
        let mut body = multipart_head(filename, content_type);
        body.extend_from_slice(content);
        body.extend_from_slice(&multipart_tail());
        Body::from(body)
    }

    async fn text(response: Response) -> String {
        let bytes = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    const BODY_LIMIT: usize = MAX_UPLOAD_BODY as usize;

    #[tokio::test]
    async fn exactly_twenty_mebibytes_are_accepted_and_one_byte_more_refused() {
        let mut content = png();
        content.resize(MAX_UPLOAD as usize, 0);
        let response = app(BODY_LIMIT)
            .oneshot(request(whole(&content, "scan.png", "image/png"), "fr"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(text(response).await, format!("{MAX_UPLOAD} image/png"));

        content.push(0);
        let response = app(BODY_LIMIT)
            .oneshot(request(whole(&content, "scan.png", "image/png"), "fr"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let problem: Value = serde_json::from_str(&text(response).await).expect("json");
        assert_eq!(problem["code"], "payload_too_large");
        assert_eq!(
            problem["detail"],
            "La taille maximale autorisée est de 20 Mo."
        );
    }

    #[tokio::test]
    async fn a_chunked_body_is_cut_off_at_the_limit() {
        // F14, sent chunked: 30 MiB in 64 KiB chunks, all ready at once (the worst case:
        // the multipart parser takes every ready chunk before handing one out).
        const CHUNK: usize = 64 * 1024;
        let pulled = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&pulled);
        let mut first = multipart_head("scan.png", "image/png");
        first.extend_from_slice(&png());
        let chunks = std::iter::once(Bytes::from(first))
            .chain((0..480).map(|_| Bytes::from(vec![0u8; CHUNK])))
            .chain(std::iter::once(Bytes::from(multipart_tail())))
            .map(move |chunk| {
                counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                Ok::<_, io::Error>(chunk)
            });
        let body = Body::from_stream(futures::stream::iter(chunks));

        let response = app(BODY_LIMIT)
            .oneshot(request(body, "ar"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let problem: Value = serde_json::from_str(&text(response).await).expect("json");
        assert_eq!(problem["title"], "المحتوى كبير جدًا");
        let pulled = pulled.load(Ordering::SeqCst);
        assert!(
            pulled <= MAX_UPLOAD_BODY + CHUNK as u64,
            "{pulled} bytes were read"
        );
    }

    #[tokio::test]
    async fn the_router_body_limit_is_a_413_too() {
        let mut content = png();
        content.resize(2 * 1024 * 1024, 0);
        let response = app(1024 * 1024)
            .oneshot(request(whole(&content, "scan.png", "image/png"), "fr"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn html_sent_as_a_png_is_refused() {
        let response = app(BODY_LIMIT)
            .oneshot(request(whole(HTML, "photo.png", "image/png"), "fr"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let problem: Value = serde_json::from_str(&text(response).await).expect("json");
        assert_eq!(problem["code"], "unsupported_media_type");
    }

    #[tokio::test]
    async fn a_body_that_is_not_multipart_is_a_415() {
        let request = Request::post("/uploads")
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .expect("request");
        let response = app(BODY_LIMIT).oneshot(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
