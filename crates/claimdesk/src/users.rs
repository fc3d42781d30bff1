//! `claimdesk users`: staff accounts from the command line.
//!
//! - `add` creates an account. Every rule that does not need the password (the login's
//!   form, an entity for an agent and only for an agent, an entity the routing data knows, a
//!   login not yet taken) is checked before the password is read, so a refused command never
//!   asks for one. The password is the first line of standard input (its line ending
//!   removed); when standard input is a terminal it is typed twice, without echo, after
//!   prompts on standard error. Only its argon2id hash is stored.
//! - `list` prints every account by login, never a hash.
//! - `disable` disables an account and deletes its sessions; the account and its login stay,
//!   as the event history names it.
//!
//! Results go to standard output, for people and scripts; logs go to standard error. Any
//! refusal is an error: the command exits non-zero and stores nothing.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::{DateTime, SecondsFormat, Utc};
use claimdesk_api::accounts::{
    check_new_account, check_password, hash_password, Role, ACCOUNT_TOKEN,
};
use claimdesk_store::services::Account;
use claimdesk_store::{Store, StoreError};
use clap::{Args, Subcommand};

use crate::config::StorageConfig;

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Creates an account; its password is read from standard input.
    Add(AddArgs),
    /// Lists every account: login, role, entity, disabled, created.
    List(StorageArgs),
    /// Disables an account and ends its sessions.
    Disable(DisableArgs),
}

#[derive(Args)]
pub struct AddArgs {
    /// Lower-case letters, digits, `.`, `_`, `-` and `@`; a letter or a digit first.
    #[arg(long)]
    pub login: String,

    /// What the account may do.
    #[arg(long, value_name = "agent|auditor|analyst|admin")]
    pub role: Role,

    /// The handling entity of an agent (a code of config/routing.json); agents only.
    #[arg(long, value_name = "code")]
    pub entity: Option<String>,

    #[command(flatten)]
    pub storage: StorageConfig,
}

#[derive(Args)]
pub struct DisableArgs {
    /// The account to disable.
    #[arg(long)]
    pub login: String,

    #[command(flatten)]
    pub storage: StorageConfig,
}

#[derive(Args)]
pub struct StorageArgs {
    #[command(flatten)]
    pub storage: StorageConfig,
}

/// Runs a `users` command, writing its result to `out`.
pub async fn run(command: UsersCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add(args) => add(args, out).await,
        UsersCommand::List(args) => list(&args.storage, out).await,
        UsersCommand::Disable(args) => disable(args, out).await,
    }
}

async fn open(storage: &StorageConfig) -> anyhow::Result<Arc<dyn Store>> {
    crate::prepare_data_dir(storage)?;
    claimdesk_store::open(&storage.store_url())
        .await
        .with_context(|| format!("cannot open the store {}", storage.store_url_for_logs()))
}

async fn add(args: AddArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let AddArgs {
        login,
        role,
        entity,
        storage,
    } = args;
    check_new_account(&login, role, entity.as_deref())
        .with_context(|| format!("cannot add the account {login}"))?;
    let store = open(&storage).await?;
    if store.account_get(&login).await?.is_some() {
        bail!("cannot add the account {login}: this login already exists");
    }

    let password = read_password(&login)?;
    check_password(&password).with_context(|| format!("cannot add the account {login}"))?;
    let account = Account {
        login,
        role: role.as_str().to_owned(),
        entity,
        password_hash: hash_password(&password),
        disabled: false,
        created_at: Utc::now(),
    };
    match store.account_insert(&account).await {
        Ok(()) => {}
        Err(StoreError::AccountExists { login }) => {
            bail!("cannot add the account {login}: this login already exists")
        }
        Err(other) => return Err(other).context("cannot store the account"),
    }
    tracing::info!(login = %account.login, %role, entity = ?account.entity, "account added");

    match &account.entity {
        Some(entity) => writeln!(out, "added {} ({role} of {entity})", account.login)?,
        None => writeln!(out, "added {} ({role})", account.login)?,
    }
    Ok(())
}

/// The password: typed twice without echo on a terminal, else the first line of input.
fn read_password(login: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password for {login}: ");
        let first = rpassword::read_password().context("cannot read the password")?;
        eprint!("The same password again: ");
        let again = rpassword::read_password().context("cannot read the password")?;
        if first != again {
            bail!("the two passwords differ");
        }
        return Ok(first);
    }

    let mut line = String::new();
    let read = stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    if read == 0 {
        bail!("no password on standard input: give it as its first line");
    }
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    Ok(password.to_owned())
}

async fn list(storage: &StorageConfig, out: &mut impl Write) -> anyhow::Result<()> {
    let store = open(storage).await?;
    let accounts = store.account_list().await?;
    write!(out, "{}", table(&accounts))?;
    Ok(())
}

/// The accounts as aligned columns under a header line.
fn table(accounts: &[Account]) -> String {
    let header = ["LOGIN", "ROLE", "ENTITY", "DISABLED", "CREATED"].map(str::to_owned);
    let mut rows = vec![header];
    for account in accounts {
        rows.push([
            account.login.clone(),
            account.role.clone(),
            account.entity.clone().unwrap_or_else(|| "-".to_owned()),
            if account.disabled { "yes" } else { "no" }.to_owned(),
            created(account.created_at),
        ]);
    }

    let mut widths = [0; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

fn created(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn disable(args: DisableArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let DisableArgs { login, storage } = args;
    let store = open(&storage).await?;
    if !store.account_set_disabled(&login, true).await? {
        bail!("cannot disable the account {login}: there is no such login");
    }
    // After disabling: a session opened in between is refused anyway, as its account is.
    let revoked = store.token_delete_subject(ACCOUNT_TOKEN, &login).await?;
    tracing::info!(%login, revoked, "account disabled");

    let sessions = if revoked == 1 { "session" } else { "sessions" };
    writeln!(out, "disabled {login}; {revoked} {sessions} ended")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(login: &str, role: &str, entity: Option<&str>, disabled: bool) -> Account {
        Account {
            login: login.to_owned(),
            role: role.to_owned(),
            entity: entity.map(str::to_owned),
            password_hash: "$argon2id$secret".to_owned(),
            disabled,
            created_at: DateTime::parse_from_rfc3339("2026-03-02T08:15:30.123456Z")
                .expect("a time")
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn the_table_aligns_columns_and_hides_hashes() {
        let accounts = [
            account("nadia", "agent", Some("customer_relations"), false),
            account("root", "admin", None, true),
        ];
        let expected = "\
LOGIN  ROLE   ENTITY              DISABLED  CREATED
nadia  agent  customer_relations  no        2026-03-02T08:15:30Z
root   admin  -                   yes       2026-03-02T08:15:30Z
";
        assert_eq!(table(&accounts), expected);
        assert_eq!(table(&[]), "LOGIN  ROLE  ENTITY  DISABLED  CREATED\n");
    }
}
