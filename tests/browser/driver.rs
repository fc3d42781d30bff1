//! The browser: Debian's headless Chromium, driven over WebDriver by a `chromedriver` that this
//! module spawns on a free port of the loopback, and what the tests do with it.
//!
//! What it guarantees:
//! - Missing `chromium` or `chromedriver` is an error that says how to install them: a browser
//!   test never passes, nor is skipped, without a browser.
//! - Chromium runs headless, without sandbox or GPU, in a fresh empty profile (a temporary
//!   folder), with a fixed window of [`WINDOW`], its background services (updates, sync,
//!   safe browsing, metrics...) turned off, and no host name but `localhost` resolving: the only
//!   place it can reach is the test's own server on the loopback.
//! - chromedriver runs in a process group of its own, and Chromium inside it; dropping the last
//!   clone of a [`Browser`] kills that group, so neither outlives its test, even a failed one.
//! - Every look-up waits for its condition, for at most [`TIMEOUT`], instead of asserting on
//!   time; a look-up that gives up says what it waited for, on which URL, and what the page
//!   showed.
//! - [`Browser::submit`] returns once the browser shows a new document, fully loaded: the
//!   answer to the click, never the page it was clicked on.
//! - [`Browser::screenshot`] writes `docs/screenshots/<name>.png` only when
//!   `CLAIMDESK_SCREENSHOTS=1`, so that ordinary runs leave the documentation alone.

use std::fmt::Display;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::elements::{Element, ElementRef};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

/// How long any wait for the browser lasts before it fails: generous, for a shared machine.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The browser window's size, in CSS pixels: every screenshot has it.
pub const WINDOW: (u32, u32) = (1280, 1000);

const INSTALL: &str = "the browser tests need Debian's packages `chromium` and \
    `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver); `./scripts/test` installs \
    them, or run `apt-get install -y chromium chromium-driver`";

/// The first of `candidates` that is a file: a path as is, a bare name looked up in `PATH`.
fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().find_map(|candidate| {
        if candidate.contains('/') {
            let path = PathBuf::from(candidate);
            return path.is_file().then_some(path);
        }
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join(candidate))
            .find(|path| path.is_file())
    })
}

/// Chromium's binary. Debian's `/usr/bin/chromium` is a launcher script that adds the flags of
/// `/etc/chromium.d` (remote extensions, Google API keys): the tests start the binary itself,
/// with their own flags only, and fall back on the launcher elsewhere.
fn chromium() -> Result<PathBuf> {
    find_program(&["/usr/lib/chromium/chromium", "chromium"])
        .with_context(|| format!("Chromium is not installed: {INSTALL}"))
}

fn chromedriver() -> Result<PathBuf> {
    find_program(&["chromedriver", "/usr/bin/chromedriver"])
        .with_context(|| format!("chromedriver is not installed: {INSTALL}"))
}

/// The command-line flags Chromium starts with.
fn chromium_args(profile: &Path, language: &str) -> Vec<String> {
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--disable-default-apps",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--disable-breakpad",
        "--no-pings",
        "--metrics-recording-only",
        "--password-store=basic",
        "--disable-features=Translate,OptimizationHints,MediaRouter,\
         AutofillServerCommunication,CertificateTransparencyComponentUpdater",
        // Nothing but the loopback: no host resolves but `localhost` and 127.0.0.1.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    ]
    .map(str::to_owned)
    .to_vec();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.push(format!("--window-size={},{}", WINDOW.0, WINDOW.1));
    args.push(format!("--lang={language}"));
    args.push(format!("--accept-lang={language}"));
    args
}

/// A running chromedriver, in its own process group; killed with its group when dropped.
struct Driver {
    child: Child,
    port: u16,
    /// Chromium's profile and chromedriver's log.
    folder: tempfile::TempDir,
}

impl Driver {
    fn start() -> Result<Driver> {
        let program = chromedriver()?;
        chromium()?;
        let folder = tempfile::tempdir()?;
        std::fs::create_dir(folder.path().join("profile"))?;
        let log = folder.path().join("chromedriver.log");
        let mut child = Command::new(&program)
            // Port 0: chromedriver takes a free one and says which on its standard output.
            .arg("--port=0")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        let stdout = child.stdout.take().context("chromedriver's output")?;
        let mut driver = Driver {
            child,
            port: 0,
            folder,
        };
        let (sender, receiver) = std::sync::mpsc::channel();
        // Reads the output to its end, so that chromedriver never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sender = Some(sender);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let port = line
                    .split_once("started successfully on port ")
                    .and_then(|(_, rest)| rest.trim_end_matches('.').trim().parse::<u16>().ok());
                if let Some(port) = port {
                    if let Some(sender) = sender.take() {
                        let _ = sender.send(port);
                    }
                }
            }
        });
        driver.port = receiver.recv_timeout(TIMEOUT).map_err(|_| {
            anyhow!(
                "chromedriver did not start; its log:\n{}",
                driver.log_tail()
            )
        })?;
        Ok(driver)
    }

    /// The end of chromedriver's log, for an error message.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.folder.path().join("chromedriver.log"))
            .unwrap_or_default();
        let start = log.len().saturating_sub(4000);
        let start = (start..log.len())
            .find(|&i| log.is_char_boundary(i))
            .unwrap_or(0);
        log[start..].to_owned()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid, not reaped yet: it names our processes only.
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: killpg only sends a signal; no memory is involved.
            unsafe {
                libc::killpg(pid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

/// One browser: a Chromium with its own profile (cookies), speaking `language` first.
#[derive(Clone)]
pub struct Browser {
    client: Client,
    driver: Arc<Driver>,
}

impl Browser {
    /// Starts chromedriver and a Chromium whose `Accept-Language` is `language` (`fr`, `ar`).
    pub async fn start(language: &str) -> Result<Browser> {
        let driver = tokio::task::spawn_blocking(Driver::start).await??;
        let args = chromium_args(&driver.folder.path().join("profile"), language);
        let capabilities = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": TIMEOUT.as_millis() as u64, "script": 30_000},
            "goog:chromeOptions": {
                "binary": chromium()?,
                "args": args,
                "prefs": {
                    "intl.accept_languages": language,
                    "credentials_enable_service": false,
                    "profile.password_manager_enabled": false,
                },
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let url = format!("http://127.0.0.1:{}", driver.port);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .map_err(|e| {
                anyhow!(
                    "cannot open a Chromium session through chromedriver: {e}\n{}",
                    driver.log_tail()
                )
            })?;
        let browser = Browser {
            client,
            driver: Arc::new(driver),
        };
        browser.fit_viewport().await?;
        Ok(browser)
    }

    /// Resizes the window so that the page's viewport (what a screenshot shows) is [`WINDOW`]:
    /// headless Chromium keeps some of the window for a toolbar it does not draw.
    async fn fit_viewport(&self) -> Result<()> {
        let viewport = || async {
            let size = self
                .client
                .execute("return [window.innerWidth, window.innerHeight];", vec![])
                .await?;
            let size: (i64, i64) = serde_json::from_value(size)?;
            anyhow::Ok(size)
        };
        let (inner_width, inner_height) = viewport().await?;
        let (outer_width, outer_height) = self.client.get_window_size().await?;
        let width = i64::try_from(outer_width)? + i64::from(WINDOW.0) - inner_width;
        let height = i64::try_from(outer_height)? + i64::from(WINDOW.1) - inner_height;
        self.client
            .set_window_size(u32::try_from(width)?, u32::try_from(height)?)
            .await?;
        let fitted = viewport().await?;
        if fitted != (i64::from(WINDOW.0), i64::from(WINDOW.1)) {
            bail!("the viewport is {fitted:?}, not {WINDOW:?}");
        }
        Ok(())
    }

    /// The WebDriver client, for what the helpers below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Ends the session: Chromium quits, then chromedriver is killed with the last clone.
    pub async fn close(self) -> Result<()> {
        self.client.clone().close().await?;
        drop(self.driver);
        Ok(())
    }

    /// Loads `url` and waits until it is complete.
    pub async fn open(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("open {url}"))?;
        self.wait_for_page(None).await
    }

    /// The current page's URL.
    pub async fn url(&self) -> Result<String> {
        Ok(self.client.current_url().await?.to_string())
    }

    /// The current page's path, without the origin nor the query.
    pub async fn path(&self) -> Result<String> {
        Ok(self.client.current_url().await?.path().to_owned())
    }

    /// The HTTP status of the current document (Navigation Timing's `responseStatus`).
    pub async fn status(&self) -> Result<u16> {
        let script = "const [n] = performance.getEntriesByType('navigation'); \
                      return n ? n.responseStatus : 0;";
        let status = self.client.execute(script, vec![]).await?;
        status
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .with_context(|| format!("no status: {status}"))
    }

    /// The text of the whole page, as a person reads it.
    pub async fn page_text(&self) -> Result<String> {
        let text = self
            .client
            .execute(
                "return document.body ? document.body.innerText : '';",
                vec![],
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// Runs `script` in the page; its result.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// Where the browser is and what it shows, for an error message.
    pub async fn context(&self) -> String {
        let url = match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => format!("(no URL: {e})"),
        };
        let text = self.page_text().await.unwrap_or_default();
        let text: String = text.chars().take(1500).collect();
        format!("at {url}, the page shows:\n{text}")
    }

    /// Waits until `check` gives `Some`, for at most [`TIMEOUT`]; gives up with `what` and
    /// where the browser is.
    pub async fn wait<T, F, Fut>(&self, what: impl Display, mut check: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        let mut last_error = None;
        loop {
            match check().await {
                Ok(Some(found)) => return Ok(found),
                Ok(None) => {}
                Err(e) => last_error = Some(e),
            }
            if tokio::time::Instant::now() > deadline {
                let error = last_error.map(|e| format!(" (last error: {e:#})"));
                bail!(
                    "gave up waiting for {what}{}, {}",
                    error.unwrap_or_default(),
                    self.context().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The element `css` once it is in the page.
    pub async fn find(&self, css: &str) -> Result<Element> {
        self.wait(format!("the element `{css}`"), || async {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => Ok(Some(element)),
                Err(e) if e.is_no_such_element() => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// Every element `css` of the page now, without waiting (none is an empty list).
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(css)).await?)
    }

    /// Whether the page has an element `css` now.
    pub async fn has(&self, css: &str) -> Result<bool> {
        Ok(!self.find_all(css).await?.is_empty())
    }

    /// The visible text of `css`.
    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.find(css).await?.text().await?)
    }

    /// The current value of the field `css` (what is typed or chosen, not the markup's).
    pub async fn value(&self, css: &str) -> Result<String> {
        Ok(self
            .find(css)
            .await?
            .prop("value")
            .await?
            .unwrap_or_default())
    }

    /// The attribute `name` of `css`.
    pub async fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        Ok(self.find(css).await?.attr(name).await?)
    }

    /// Types `text` into the field `css`, after clearing it.
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let field = self.find(css).await?;
        field.clear().await?;
        if !text.is_empty() {
            field.send_keys(text).await?;
        }
        Ok(())
    }

    /// Chooses the option whose value is `value` in the select `css`.
    pub async fn select(&self, css: &str, value: &str) -> Result<()> {
        self.find(css)
            .await?
            .select_by_value(value)
            .await
            .with_context(|| format!("choose {value} in {css}"))?;
        Ok(())
    }

    /// Ticks the radio button or check box `css` (clicks it unless it is already ticked).
    pub async fn check(&self, css: &str) -> Result<()> {
        let field = self.find(css).await?;
        if !field.is_selected().await? {
            field.click().await?;
        }
        Ok(())
    }

    /// Whether the radio button or check box `css` is ticked.
    pub async fn is_checked(&self, css: &str) -> Result<bool> {
        Ok(self.find(css).await?.is_selected().await?)
    }

    /// Chooses `files` in the file input `css`, as a person picking them would.
    pub async fn attach(&self, css: &str, files: &[&Path]) -> Result<()> {
        let paths: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        self.find(css).await?.send_keys(&paths.join("\n")).await?;
        Ok(())
    }

    /// Clicks `css` (a link or a button) and waits for the new page it leads to.
    pub async fn submit(&self, css: &str) -> Result<()> {
        let element = self.find(css).await?;
        let old = self.root().await?;
        element
            .click()
            .await
            .with_context(|| format!("click {css}"))?;
        self.wait_for_page(Some(old)).await
    }

    /// The browser's Back button; waits for the page it shows.
    pub async fn back(&self) -> Result<()> {
        let old = self.root().await?;
        self.client.back().await.context("back")?;
        self.wait_for_page(Some(old)).await
    }

    /// The browser's Forward button; waits for the page it shows.
    pub async fn forward(&self) -> Result<()> {
        let old = self.root().await?;
        self.client.forward().await.context("forward")?;
        self.wait_for_page(Some(old)).await
    }

    /// Presses Enter in the field `css` and waits for the new page the form leads to.
    pub async fn press_enter(&self, css: &str) -> Result<()> {
        let element = self.find(css).await?;
        let old = self.root().await?;
        let enter = char::from(fantoccini::key::Key::Enter).to_string();
        element
            .send_keys(&enter)
            .await
            .with_context(|| format!("press Enter in {css}"))?;
        self.wait_for_page(Some(old)).await
    }

    /// Double-clicks `css` as a hurried person would (two clicks, no pause), and waits for the
    /// new page.
    pub async fn double_click(&self, css: &str) -> Result<()> {
        let element = self.find(css).await?;
        let old = self.root().await?;
        let click = |mouse: MouseActions| {
            mouse
                .then(PointerAction::Down {
                    button: MOUSE_BUTTON_LEFT,
                })
                .then(PointerAction::Up {
                    button: MOUSE_BUTTON_LEFT,
                })
        };
        let mouse = MouseActions::new("mouse".to_owned()).then(PointerAction::MoveToElement {
            element,
            duration: None,
            x: 0.0,
            y: 0.0,
        });
        let actions = click(click(mouse));
        // A navigation may start between the clicks: the actions' own answer may be an error.
        let _ = self.client.perform_actions(actions).await;
        let _ = self.client.release_actions().await;
        self.wait_for_page(Some(old)).await
    }

    /// The current document's root element.
    async fn root(&self) -> Result<ElementRef> {
        Ok(self.client.find(Locator::Css("html")).await?.element_id())
    }

    /// Waits until the browser shows a complete document other than `old`.
    async fn wait_for_page(&self, old: Option<ElementRef>) -> Result<()> {
        self.wait("a new page, fully loaded", || async {
            let root = match self.client.find(Locator::Css("html")).await {
                Ok(root) => root.element_id(),
                Err(_) => return Ok(None),
            };
            if old.as_ref() == Some(&root) {
                return Ok(None);
            }
            let state = self
                .client
                .execute("return document.readyState;", vec![])
                .await?;
            Ok((state == "complete").then_some(()))
        })
        .await
    }

    /// Saves a PNG of the window to `docs/screenshots/<name>.png`, when
    /// `CLAIMDESK_SCREENSHOTS=1`; does nothing otherwise.
    pub async fn screenshot(&self, name: &str) -> Result<()> {
        if std::env::var("CLAIMDESK_SCREENSHOTS").as_deref() != Ok("1") {
            return Ok(());
        }
        let png = self.client.screenshot().await?;
        if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
            bail!("the screenshot {name} is not a PNG");
        }
        let folder = screenshots_folder();
        std::fs::create_dir_all(&folder)?;
        let path = folder.join(format!("{name}.png"));
        std::fs::write(&path, png).with_context(|| format!("write {}", path.display()))?;
        Ok(())
    }
}

/// `docs/screenshots` of the repository.
pub fn screenshots_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")
}
