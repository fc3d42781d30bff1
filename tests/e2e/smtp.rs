//! A small SMTP server for the tests, on 127.0.0.1 only, and what the tests need to read the
//! messages it received.
//!
//! It speaks enough of RFC 5321 for a client: EHLO/HELO, MAIL FROM, RCPT TO, DATA (with
//! dot-unstuffing), RSET, NOOP, QUIT. It keeps every message it accepted, and can be told to
//! refuse the next messages (451 or 550), to hold the next one unanswered (when its client
//! goes away before the answer, it is not accepted, as with a real server), and to stop and
//! start again on the same port.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::AbortHandle;

/// The largest message accepted.
const MAX_MESSAGE: usize = 10 * 1024 * 1024;

/// A message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    pub fn email(&self) -> Result<Email> {
        Email::parse(&self.data)
    }
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// Reply codes for the next messages, refused instead of accepted.
    refusals: VecDeque<u16>,
    refused: usize,
    /// Whether the next message is held unanswered.
    hold_next: bool,
    held: usize,
    /// Held messages whose client went away.
    dropped: usize,
    tasks: Vec<AbortHandle>,
}

struct Shared {
    state: Mutex<State>,
}

/// The test SMTP server; it stops when dropped.
pub struct SmtpServer {
    port: u16,
    shared: Arc<Shared>,
}

impl SmtpServer {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start() -> Result<SmtpServer> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
        });
        let port = listen(0, shared.clone()).await?;
        Ok(SmtpServer { port, shared })
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().expect("smtp state")
    }

    /// Closes the port and every open connection; what was received is kept.
    pub fn stop(&self) {
        for task in self.state().tasks.drain(..) {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn start_again(&self) -> Result<()> {
        self.stop();
        listen(self.port, self.shared.clone()).await?;
        Ok(())
    }

    /// Refuses the next `count` messages with `code` (451: try later; 550: refused).
    pub fn refuse_next(&self, count: usize, code: u16) {
        let mut state = self.state();
        state.refusals = std::iter::repeat_n(code, count).collect();
    }

    /// Holds the next message unanswered after its data, as a server that takes its time.
    pub fn hold_next(&self) {
        self.state().hold_next = true;
    }

    /// Messages held unanswered right now.
    pub fn held(&self) -> usize {
        self.state().held
    }

    /// Held messages whose client went away before they were answered: never accepted.
    pub fn dropped(&self) -> usize {
        self.state().dropped
    }

    pub fn refused(&self) -> usize {
        self.state().refused
    }

    pub fn received(&self) -> Vec<Received> {
        self.state().received.clone()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Binds 127.0.0.1:`port` (0 for any) and serves on it; the port it got.
async fn listen(port: u16, shared: Arc<Shared>) -> Result<u16> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    let mut bound = None;
    // The port was just closed: the operating system may take a moment to give it back.
    for _ in 0..50 {
        match socket.bind(([127, 0, 0, 1], port).into()) {
            Ok(()) => {
                bound = Some(());
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    bound.with_context(|| format!("cannot bind 127.0.0.1:{port}"))?;
    let listener = socket.listen(128)?;
    let port = listener.local_addr()?.port();

    let accepting = shared.clone();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let shared = accepting.clone();
            let session = tokio::spawn(async move {
                let _ = session(stream, shared).await;
            });
            accepting
                .state
                .lock()
                .expect("smtp state")
                .tasks
                .push(session.abort_handle());
        }
    });
    shared
        .state
        .lock()
        .expect("smtp state")
        .tasks
        .push(task.abort_handle());
    Ok(port)
}

/// The address inside `<...>` of a MAIL FROM or RCPT TO argument.
fn address(argument: &str) -> String {
    let argument = argument.trim();
    match (argument.find('<'), argument.find('>')) {
        (Some(open), Some(close)) if open < close => argument[open + 1..close].to_owned(),
        _ => argument.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

/// What happens to a message whose data has been read.
enum Verdict {
    Accept,
    Refuse(u16),
    /// Held until the client goes away.
    Hold,
}

async fn session(stream: TcpStream, shared: Arc<Shared>) -> Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer
        .write_all(b"220 127.0.0.1 claimdesk test ESMTP\r\n")
        .await?;

    let mut greeted = false;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        let upper = line.to_ascii_uppercase();

        let reply: &[u8] = if upper.starts_with("EHLO ") || upper == "EHLO" {
            greeted = true;
            (mail_from, rcpt_to) = (None, Vec::new());
            b"250-127.0.0.1 hello\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n"
        } else if upper.starts_with("HELO ") {
            greeted = true;
            (mail_from, rcpt_to) = (None, Vec::new());
            b"250 127.0.0.1 hello\r\n"
        } else if let Some(argument) = upper.strip_prefix("MAIL FROM:") {
            if greeted {
                let start = line.len() - argument.len();
                mail_from = Some(address(&line[start..]));
                rcpt_to.clear();
                b"250 2.1.0 OK\r\n"
            } else {
                b"503 5.5.1 say hello first\r\n"
            }
        } else if let Some(argument) = upper.strip_prefix("RCPT TO:") {
            if mail_from.is_some() {
                let start = line.len() - argument.len();
                rcpt_to.push(address(&line[start..]));
                b"250 2.1.5 OK\r\n"
            } else {
                b"503 5.5.1 MAIL FROM first\r\n"
            }
        } else if upper == "DATA" {
            if rcpt_to.is_empty() {
                b"503 5.5.1 RCPT TO first\r\n"
            } else {
                writer
                    .write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let data = read_data(&mut reader).await?;
                let message = Received {
                    mail_from: mail_from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut rcpt_to),
                    data,
                };
                let reply = match verdict(&shared) {
                    Verdict::Accept => accept(&shared, message),
                    Verdict::Refuse(451) => b"451 4.3.0 try again later\r\n".as_slice(),
                    Verdict::Refuse(_) => b"550 5.7.1 refused\r\n".as_slice(),
                    Verdict::Hold => {
                        // Until the client goes away: then nothing was accepted.
                        hold(&shared, &mut reader).await;
                        return Ok(());
                    }
                };
                writer.write_all(reply).await?;
                continue;
            }
        } else if upper == "RSET" {
            (mail_from, rcpt_to) = (None, Vec::new());
            b"250 2.0.0 OK\r\n"
        } else if upper == "NOOP" {
            b"250 2.0.0 OK\r\n"
        } else if upper == "QUIT" {
            writer.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            b"500 5.5.2 unknown command\r\n"
        };
        writer.write_all(reply).await?;
    }
}

/// Reads the message's lines up to the lone dot, and removes the dot-stuffing.
async fn read_data<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            bail!("the connection closed inside DATA");
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(data);
        }
        let unstuffed = if line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(unstuffed);
        if data.len() > MAX_MESSAGE {
            bail!("message too large");
        }
    }
}

fn verdict(shared: &Shared) -> Verdict {
    let mut state = shared.state.lock().expect("smtp state");
    if let Some(code) = state.refusals.pop_front() {
        state.refused += 1;
        return Verdict::Refuse(code);
    }
    if std::mem::take(&mut state.hold_next) {
        state.held += 1;
        return Verdict::Hold;
    }
    Verdict::Accept
}

fn accept(shared: &Shared, message: Received) -> &'static [u8] {
    shared
        .state
        .lock()
        .expect("smtp state")
        .received
        .push(message);
    b"250 2.0.0 queued\r\n"
}

/// Waits until the client goes away (or sends anything, which it may not before the answer).
async fn hold<R: AsyncReadExt + Unpin>(shared: &Shared, reader: &mut R) {
    let mut byte = [0u8; 1];
    let _ = reader.read(&mut byte).await;
    let mut state = shared.state.lock().expect("smtp state");
    state.held -= 1;
    state.dropped += 1;
}

/// A received message, split into headers and body.
#[derive(Debug, Clone)]
pub struct Email {
    /// Unfolded headers, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Email {
    pub fn parse(data: &[u8]) -> Result<Email> {
        let split = find(data, b"\r\n\r\n").context("no end of headers")?;
        let head = std::str::from_utf8(&data[..split]).context("headers are not ASCII")?;
        if !head.is_ascii() {
            bail!("headers are not ASCII: {head}");
        }
        Ok(Email {
            headers: parse_headers(head),
            body: data[split + 4..].to_vec(),
        })
    }

    /// Every value of the header `name` (case-insensitive), unfolded, not decoded.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The only value of the header `name`.
    pub fn header(&self, name: &str) -> Result<&str> {
        match self.all(name).as_slice() {
            [one] => Ok(one),
            other => bail!("{} {name} headers: {other:?}", other.len()),
        }
    }

    /// The subject, decoded as RFC 2047 says.
    pub fn subject(&self) -> Result<String> {
        decode_rfc2047(self.header("Subject")?)
    }

    pub fn message_id(&self) -> Result<String> {
        Ok(self.header("Message-ID")?.trim().to_owned())
    }

    /// The decoded body of the part whose type starts with `media_type`
    /// (`text/plain`, `text/html`), its lines ending in `\n` (mail carries them as CRLF).
    pub fn part(&self, media_type: &str) -> Result<String> {
        let content_type = self.header("Content-Type")?;
        let boundary = parameter(content_type, "boundary").context("no boundary")?;
        let body = std::str::from_utf8(&self.body).context("the body is not ASCII")?;
        let delimiter = format!("--{boundary}");
        for part in body.split(delimiter.as_str()).skip(1) {
            let part = part.trim_start_matches("\r\n");
            if part.starts_with("--") {
                break;
            }
            let part = Email::parse(part.as_bytes())?;
            let kind = part.header("Content-Type")?;
            if !kind.to_ascii_lowercase().starts_with(media_type) {
                continue;
            }
            let encoding = part
                .all("Content-Transfer-Encoding")
                .first()
                .map(|e| e.trim().to_ascii_lowercase())
                .unwrap_or_else(|| "7bit".to_owned());
            let raw = std::str::from_utf8(&part.body)?.trim_end_matches("\r\n");
            let bytes = match encoding.as_str() {
                "base64" => {
                    let compact: String = raw.split_whitespace().collect();
                    base64::engine::general_purpose::STANDARD.decode(compact)?
                }
                "quoted-printable" => decode_quoted_printable(raw)?,
                _ => raw.as_bytes().to_vec(),
            };
            return Ok(String::from_utf8(bytes)?.replace("\r\n", "\n"));
        }
        bail!("no {media_type} part")
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Headers unfolded: a line that starts with a space or a tab continues the previous one,
/// and unfolding removes only the line break.
fn parse_headers(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((
                name.to_owned(),
                value.strip_prefix(' ').unwrap_or(value).to_owned(),
            ));
        }
    }
    headers
}

/// The value of `name=` in a header's parameters, unquoted.
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (key, value) = p.trim().split_once('=')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim_matches('"').to_owned())
    })
}

fn decode_quoted_printable(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' if bytes[i + 1..].starts_with(b"\n") => i += 2,
            b'=' => {
                let hex = text.get(i + 1..i + 3).context("a cut escape")?;
                out.push(u8::from_str_radix(hex, 16)?);
                i += 3;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// One RFC 2047 encoded word's charset-less bytes, if `token` is one (UTF-8 only).
fn encoded_word(token: &str) -> Result<Option<Vec<u8>>> {
    let Some(inner) = token.strip_prefix("=?").and_then(|t| t.strip_suffix("?=")) else {
        return Ok(None);
    };
    let mut parts = inner.splitn(3, '?');
    let (Some(charset), Some(encoding), Some(text)) = (parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    if !charset.eq_ignore_ascii_case("utf-8") {
        bail!("unexpected charset {charset}");
    }
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD.decode(text)?,
        "Q" | "q" => decode_quoted_printable(&text.replace('_', " "))?,
        other => bail!("unknown encoding {other}"),
    };
    Ok(Some(bytes))
}

/// An unstructured header's text, decoded as RFC 2047 says: encoded words are decoded,
/// white space between two adjacent encoded words is dropped, every other character stays.
pub fn decode_rfc2047(value: &str) -> Result<String> {
    let mut out = String::new();
    // The bytes of a run of adjacent encoded words: a character may be cut between two.
    let mut run: Vec<u8> = Vec::new();
    let mut space = String::new();
    let flush = |run: &mut Vec<u8>, out: &mut String| -> Result<()> {
        if !run.is_empty() {
            out.push_str(std::str::from_utf8(run).context("encoded words are not UTF-8")?);
            run.clear();
        }
        Ok(())
    };

    let mut rest = value;
    while !rest.is_empty() {
        let blank = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if blank > 0 {
            space.push_str(&rest[..blank]);
            rest = &rest[blank..];
            continue;
        }
        let end = rest.find([' ', '\t']).unwrap_or(rest.len());
        let token = &rest[..end];
        rest = &rest[end..];
        match encoded_word(token)? {
            Some(bytes) => {
                if run.is_empty() {
                    out.push_str(&space);
                }
                run.extend(bytes);
            }
            None => {
                flush(&mut run, &mut out)?;
                out.push_str(&space);
                out.push_str(token);
            }
        }
        space.clear();
    }
    flush(&mut run, &mut out)?;
    out.push_str(&space);
    Ok(out)
}
