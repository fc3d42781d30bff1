//! The server's configuration: one documented struct, from flags and `CLAIMDESK_*` variables.
//!
//! Every setting has a flag and an environment variable (the variables are part of the HTTP
//! contract); a flag wins over its variable, and a variable over the default. `Debug` never
//! shows a secret: the database URL's password is masked.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

#[derive(Clone, Args)]
pub struct ServeConfig {
    /// Address and port to listen on.
    #[arg(long, env = "CLAIMDESK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub storage: StorageConfig,

    /// SMTP server (`smtp://host:port`); unset, emails are written as files in the data folder.
    #[arg(long, env = "CLAIMDESK_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// Sender address of the emails.
    #[arg(
        long,
        env = "CLAIMDESK_MAIL_FROM",
        default_value = "reclamations@claimdesk.localhost"
    )]
    pub mail_from: String,

    /// How long after an answer without reaction a claim closes by itself (`3s`, `10m`, `7d`).
    #[arg(long, env = "CLAIMDESK_AUTO_CLOSE_AFTER", default_value = "7d",
        value_parser = parse_duration)]
    pub auto_close_after: Duration,

    /// Makes every captcha's answer this text. For automated tests only.
    #[arg(long, env = "CLAIMDESK_CAPTCHA_FIXED_ANSWER", hide = true)]
    pub captcha_fixed_answer: Option<String>,

    /// The public site's address, for the links in emails (`{url}/claims/{number}`).
    #[arg(
        long,
        env = "CLAIMDESK_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,

    /// How long before an automatic closure the client gets a reminder (`2d`, `12h`...).
    #[arg(long, env = "CLAIMDESK_REMINDER_BEFORE", default_value = "2d",
        value_parser = parse_duration)]
    pub reminder_before: Duration,

    /// How often the email sender and the deadline timers look for due work (`1s`, `200ms`).
    #[arg(long, env = "CLAIMDESK_PROCESS_POLL", default_value = "1s",
        value_parser = parse_duration)]
    pub process_poll: Duration,
}

/// Where everything is kept.
#[derive(Clone, Args)]
pub struct StorageConfig {
    /// Folder for the SQLite database, attachments and unsent emails.
    #[arg(long, env = "CLAIMDESK_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// PostgreSQL URL; unset, an SQLite database in the data folder is used.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
}

impl StorageConfig {
    /// The store's URL: PostgreSQL when configured, else the embedded SQLite file.
    pub fn store_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => format!("sqlite://{}", self.data_dir.join("claimdesk.db").display()),
        }
    }

    /// The store's URL with any password masked, for logs.
    pub fn store_url_for_logs(&self) -> String {
        mask_password(&self.store_url())
    }
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageConfig")
            .field("data_dir", &self.data_dir)
            .field("store", &self.store_url_for_logs())
            .finish()
    }
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("listen", &self.listen)
            .field("storage", &self.storage)
            .field("smtp_url", &self.smtp_url.as_deref().map(mask_password))
            .field("mail_from", &self.mail_from)
            .field("auto_close_after", &self.auto_close_after)
            .field(
                "captcha_fixed_answer",
                &self.captcha_fixed_answer.as_ref().map(|_| "***"),
            )
            .field("public_url", &self.public_url)
            .field("reminder_before", &self.reminder_before)
            .field("process_poll", &self.process_poll)
            .finish()
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Parses `90`, `250ms`, `3s`, `10m`, `12h`, `7d`, `2w` into a duration (a bare number is
/// seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration"))?;
    let millis = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        other => return Err(format!("unknown unit `{other}`: use ms, s, m, h, d or w")),
    };
    amount
        .checked_mul(millis)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert!(parse_duration("7x").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_password("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(mask_password("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            mask_password("sqlite://./data/x.db"),
            "sqlite://./data/x.db"
        );
    }
}
