//! Uploads: type from content (F13), the 20 MiB limit (F14), ZIP archives.

use std::io::Write;

use anyhow::{ensure, Result};
use reqwest::StatusCode;

use crate::support::{expect_json, expect_problem, sample_pdf, TestApp};

const LIMIT: usize = 20 * 1024 * 1024;

fn png() -> Vec<u8> {
    // A 1×1 PNG.
    let hex = "89504e470d0a1a0a0000000d4948445200000001000000010806000000\
               1f15c4890000000d49444154789c6360f8cfc00000030101009a6c5b\
               0a0000000049454e44ae426082";
    hex::decode(hex.replace(char::is_whitespace, "")).expect("valid hex")
}

pub async fn html_disguised_as_png_is_refused(app: TestApp) -> Result<()> {
    let html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".to_vec();
    let response = app.upload(html, "photo.png", "image/png").await?;
    let problem = expect_problem(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    ensure!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));

    let real = expect_json(
        app.upload(png(), "x.pdf", "application/pdf").await?,
        StatusCode::CREATED,
    )
    .await?;
    ensure!(
        real["media_type"] == "image/png",
        "judged from content: {real}"
    );
    app.stop().await
}

pub async fn exactly_twenty_mebibytes_is_accepted_one_more_byte_is_not(app: TestApp) -> Result<()> {
    let mut exact = sample_pdf();
    exact.resize(LIMIT, b' ');
    let ok = expect_json(
        app.upload(exact, "big.pdf", "application/pdf").await?,
        StatusCode::CREATED,
    )
    .await?;
    ensure!(ok["size"] == LIMIT, "{ok}");

    let mut over = sample_pdf();
    over.resize(LIMIT + 1, b' ');
    let response = app
        .http
        .post(app.url("/api/v1/uploads?lang=ar"))
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(over).file_name("big.pdf"),
        ))
        .send()
        .await?;
    let problem =
        expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await?;
    let detail = problem["title"].as_str().unwrap_or_default();
    ensure!(
        detail
            .chars()
            .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
        "Arabic: {problem}"
    );
    app.stop().await
}

pub async fn chunked_upload_over_the_limit_is_refused(app: TestApp) -> Result<()> {
    let mut over = sample_pdf();
    over.resize(LIMIT + 1, b' ');
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        over.chunks(256 * 1024).map(|c| Ok(c.to_vec())).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let part = reqwest::multipart::Part::stream(body).file_name("big.pdf");
    let response = app
        .http
        .post(app.url("/api/v1/uploads"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await?;
    expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await?;
    app.stop().await
}

fn zip_of(entries: &[(&str, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        for (name, bytes) in entries {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())?;
            zip.write_all(bytes)?;
        }
        zip.finish()?;
    }
    Ok(cursor.into_inner())
}

pub async fn zip_of_images_is_accepted_zip_with_executable_is_not(app: TestApp) -> Result<()> {
    let good = zip_of(&[("a.png", png()), ("b.pdf", sample_pdf())])?;
    let ok = expect_json(
        app.upload(good, "pieces.zip", "application/zip").await?,
        StatusCode::CREATED,
    )
    .await?;
    ensure!(ok["media_type"] == "application/zip", "{ok}");

    let elf = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00".repeat(8);
    let bad = zip_of(&[("a.png", png()), ("run.exe", elf)])?;
    let response = app.upload(bad, "pieces.zip", "application/zip").await?;
    expect_problem(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    app.stop().await
}
