//! Staff accounts: roles, password hashes, the rules for a new account, and the member of
//! staff a request is authenticated as.
//!
//! What this module promises:
//! - A password is kept only as an argon2id PHC string, with a random 16-byte salt from the
//!   operating system and the argon2 crate's default memory-hard parameters. Verifying reads
//!   the parameters from the stored string, so older hashes still verify when they change.
//! - [`Staff`] is extracted only from an unexpired bearer token of kind [`ACCOUNT_TOKEN`]
//!   whose account exists and is not disabled; anything else is the same 401, so a caller
//!   cannot tell an unknown token from a revoked one or from a disabled account. The account
//!   is read on every request: disabling it shuts out the tokens it already holds at once.
//! - A stored account that breaks the rules of [`check_new_account`] (an unknown role, an
//!   agent without an entity) opens nothing: it is a 500, logged for an operator to fix.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use claimdesk_domain::Actor;
use claimdesk_store::services::Account;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{bearer, secret_hash};
use crate::problem::ApiError;
use crate::routing::Routing;

/// The kind of the tokens that open a staff session; their subject is the login.
pub const ACCOUNT_TOKEN: &str = "account";

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The most characters a password may have: more is no safer, only slower to hash.
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// The most characters a login may have.
pub const MAX_LOGIN_CHARS: usize = 64;

/// What a member of staff may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Works on the claims of one handling entity.
    Agent,
    /// Reads any claim's raw history and checks that it is intact.
    Auditor,
    /// Reads the satisfaction statistics, which hold no personal data.
    Analyst,
    /// Runs the service: rebuilds read models.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Agent, Role::Auditor, Role::Analyst, Role::Admin];

    /// The name stored with the account and shown in the API: `agent`, `auditor`...
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Auditor => "auditor",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is none of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`: expected agent, auditor, analyst or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    /// Exactly one of the names of [`Role::as_str`]: no other case, no spaces.
    fn from_str(name: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == name)
            .ok_or_else(|| UnknownRole(name.to_owned()))
    }
}

/// Why an account cannot be created, or why a stored one is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error(
        "a login has 1 to {MAX_LOGIN_CHARS} characters among lower-case letters a-z, digits, \
         `.`, `_`, `-` and `@`, and starts with a letter or a digit"
    )]
    InvalidLogin,
    #[error(transparent)]
    UnknownRole(#[from] UnknownRole),
    #[error("an agent works for one handling entity: the entity is missing")]
    AgentWithoutEntity,
    #[error("only an agent has an entity, not an account with role {0}")]
    EntityOnNonAgent(Role),
    #[error("unknown entity `{entity}`: expected one of {known}")]
    UnknownEntity { entity: String, known: String },
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error("a password has at most {MAX_PASSWORD_CHARS} characters")]
    PasswordTooLong,
}

/// Checks a new account's login, and that it has an entity, known to the routing data, if
/// and only if it is an agent's.
pub fn check_new_account(
    login: &str,
    role: Role,
    entity: Option<&str>,
) -> Result<(), AccountError> {
    check_login(login)?;
    let routing = Routing::load();
    match (role, entity) {
        (Role::Agent, None) => Err(AccountError::AgentWithoutEntity),
        (Role::Agent, Some(code)) if routing.entity(code).is_none() => {
            let known: Vec<&str> = routing.entities.iter().map(|e| e.code.as_str()).collect();
            Err(AccountError::UnknownEntity {
                entity: code.to_owned(),
                known: known.join(", "),
            })
        }
        (Role::Agent, Some(_)) | (_, None) => Ok(()),
        (other, Some(_)) => Err(AccountError::EntityOnNonAgent(other)),
    }
}

/// Lower-case ASCII letters, digits, `.`, `_`, `-` and `@`; a letter or digit first. Such a
/// login reads the same in every log, shell and collation.
pub fn check_login(login: &str) -> Result<(), AccountError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_@".contains(c);
    let starts_well = login
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if starts_well && login.len() <= MAX_LOGIN_CHARS && login.chars().all(allowed) {
        Ok(())
    } else {
        Err(AccountError::InvalidLogin)
    }
}

/// Checks a new password's length, in characters.
pub fn check_password(password: &str) -> Result<(), AccountError> {
    // Spaces and invisible characters do not make a password longer.
    let visible = password
        .chars()
        .filter(|c| !claimdesk_domain::is_invisible(*c))
        .count();
    if visible < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    match password.chars().count() {
        n if n < MIN_PASSWORD_CHARS => Err(AccountError::PasswordTooShort),
        n if n > MAX_PASSWORD_CHARS => Err(AccountError::PasswordTooLong),
        _ => Ok(()),
    }
}

/// The argon2id PHC string of `password`, with a fresh random salt.
///
/// # Panics
///
/// Only if the operating system gives no random bytes, or the password is over 4 GiB: the
/// default parameters accept every other input.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id with its default parameters hashes any password")
        .to_string()
}

/// Whether `password` is the one `phc` was made from. A `phc` that is not a valid PHC
/// string of a supported algorithm verifies nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        tracing::warn!("a stored password hash is not a PHC string");
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// The hash of 32 random bytes that were thrown away, with the parameters [`hash_password`]
/// uses: checking a password against it costs what checking a real one does, so an unknown
/// login is refused in the same time as a wrong password. A test keeps the two in step.
pub(crate) const DUMMY_HASH: &str = concat!(
    "$argon2id$v=19$m=19456,t=2,p=1$oTY9UjKVW9ux8hlv69+PtA$",
    "tbNln0p3NmP6382tQa6VjghfgBv9JlNjt6jaofqKIEw",
);

/// The member of staff a request is authenticated as.
///
/// An agent always has an entity and the other roles never do: [`Staff::from_account`]
/// makes sure of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub login: String,
    pub role: Role,
    /// The handling entity of an agent; `None` for the other roles.
    pub entity: Option<String>,
}

impl Staff {
    /// The member of staff of a stored account, if it follows the rules: a known role, and
    /// an entity if and only if it is an agent's. Whether it is disabled is not looked at.
    pub fn from_account(account: &Account) -> Result<Staff, AccountError> {
        let role: Role = account.role.parse()?;
        match (role, &account.entity) {
            (Role::Agent, None) => return Err(AccountError::AgentWithoutEntity),
            (Role::Agent, Some(_)) | (_, None) => {}
            (other, Some(_)) => return Err(AccountError::EntityOnNonAgent(other)),
        }
        Ok(Staff {
            login: account.login.clone(),
            role,
            entity: account.entity.clone(),
        })
    }

    /// Fails with 403 `forbidden` unless this member of staff has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            tracing::debug!(login = %self.login, role = %self.role, ?roles, "role refused");
            Err(ApiError::Forbidden)
        }
    }

    /// Who this member of staff is in the events they cause.
    pub fn actor(&self) -> Actor {
        match (self.role, &self.entity) {
            (Role::Agent, Some(entity)) => Actor::agent(&self.login, entity),
            // Not built by `from_account`: an agent of no entity matches no claim's entity.
            (Role::Agent, None) => Actor::agent(&self.login, ""),
            (role, _) => Actor::staff(&self.login, role.as_str()),
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Staff, ApiError> {
        let secret = bearer(parts).ok_or(ApiError::Unauthorized)?;
        staff_of_secret(state, secret).await
    }
}

/// The member of staff whose session `secret` opens: 401 for an unknown, expired or
/// non-session token, or a disabled account.
pub(crate) async fn staff_of_secret(state: &AppState, secret: &str) -> Result<Staff, ApiError> {
    let now = state.clock.now();
    let token = state
        .store
        .token_get(&secret_hash(secret), now)
        .await?
        .filter(|t| t.kind == ACCOUNT_TOKEN)
        .ok_or(ApiError::Unauthorized)?;

    let Some(account) = state.store.account_get(&token.subject).await? else {
        return Err(ApiError::Unauthorized);
    };
    if account.disabled {
        tracing::debug!(login = %account.login, "a disabled account's token was refused");
        return Err(ApiError::Unauthorized);
    }
    Staff::from_account(&account).map_err(|e| {
        ApiError::internal(format!("stored account {} is unusable: {e}", account.login))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_names_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
            let json = serde_json::to_string(&role).expect("a role serializes");
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).expect("parses"), role);
        }
        for wrong in [
            "",
            "Admin",
            "AGENT",
            " agent",
            "agent ",
            "administrator",
            "client",
        ] {
            assert_eq!(wrong.parse::<Role>(), Err(UnknownRole(wrong.to_owned())));
        }
        assert!(serde_json::from_str::<Role>("\"Admin\"").is_err());
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery");
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(
            !hash.contains("correct horse"),
            "the password is not in its hash"
        );
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("correct horse battery ", &hash));
        assert!(!verify_password("", &hash));
    }

    #[test]
    fn every_hash_has_its_own_salt() {
        let (a, b) = (
            hash_password("same password"),
            hash_password("same password"),
        );
        assert_ne!(a, b);
        assert!(verify_password("same password", &a) && verify_password("same password", &b));
    }

    #[test]
    fn a_malformed_hash_verifies_nothing() {
        for phc in [
            "",
            "plain text",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$md5$abc$def",
        ] {
            assert!(!verify_password("", phc), "{phc:?}");
            assert!(!verify_password("plain text", phc), "{phc:?}");
        }
    }

    #[test]
    fn the_dummy_hash_costs_what_a_new_hash_costs() {
        let dummy = PasswordHash::new(DUMMY_HASH).expect("the dummy hash is a PHC string");
        let fresh = hash_password("some password");
        let fresh = PasswordHash::new(&fresh).expect("a PHC string");
        assert_eq!(dummy.algorithm, fresh.algorithm);
        assert_eq!(dummy.version, fresh.version);
        assert_eq!(dummy.params, fresh.params);
        assert_eq!(
            dummy.hash.map(|h| h.len()),
            fresh.hash.map(|h| h.len()),
            "same output length"
        );
        assert!(!verify_password("", DUMMY_HASH));
    }

    #[test]
    fn logins() {
        for good in [
            "a",
            "amina",
            "amina.b",
            "k_2",
            "ops-team",
            "x@office.ma",
            "007",
        ] {
            assert_eq!(check_login(good), Ok(()), "{good}");
        }
        let long = "a".repeat(MAX_LOGIN_CHARS + 1);
        for bad in [
            "", "Amina", ".amina", "-x", "_x", "@x", "am ina", "amïna", "a\u{0}", &long,
        ] {
            assert_eq!(check_login(bad), Err(AccountError::InvalidLogin), "{bad:?}");
        }
        assert_eq!(check_login(&long[1..]), Ok(()));
    }

    #[test]
    fn passwords_are_counted_in_characters() {
        assert_eq!(
            check_password("123456789"),
            Err(AccountError::PasswordTooShort)
        );
        assert_eq!(check_password("1234567890"), Ok(()));
        // Ten characters, twenty bytes.
        assert_eq!(check_password("éééééééééé"), Ok(()));
        assert_eq!(
            check_password("ééééééééé"),
            Err(AccountError::PasswordTooShort)
        );
        let longest = "x".repeat(MAX_PASSWORD_CHARS);
        assert_eq!(check_password(&longest), Ok(()));
        let over = format!("{longest}x");
        assert_eq!(check_password(&over), Err(AccountError::PasswordTooLong));
        let blank = " ".repeat(10);
        assert_eq!(check_password(&blank), Err(AccountError::PasswordTooShort));
        let padded = format!("  abc{}  ", "\u{200B}".repeat(10));
        assert_eq!(check_password(&padded), Err(AccountError::PasswordTooShort));
    }

    #[test]
    fn only_agents_have_an_entity_known_to_the_routing_data() {
        assert_eq!(check_new_account("a", Role::Agent, Some("finance")), Ok(()));
        assert_eq!(
            check_new_account("a", Role::Agent, None),
            Err(AccountError::AgentWithoutEntity)
        );
        match check_new_account("a", Role::Agent, Some("nowhere")) {
            Err(AccountError::UnknownEntity { entity, known }) => {
                assert_eq!(entity, "nowhere");
                assert!(
                    known.contains("finance") && known.contains("trade_names"),
                    "{known}"
                );
            }
            other => panic!("expected UnknownEntity, got {other:?}"),
        }
        for role in [Role::Auditor, Role::Analyst, Role::Admin] {
            assert_eq!(check_new_account("a", role, None), Ok(()));
            assert_eq!(
                check_new_account("a", role, Some("finance")),
                Err(AccountError::EntityOnNonAgent(role))
            );
        }
        assert_eq!(
            check_new_account("A", Role::Admin, None),
            Err(AccountError::InvalidLogin)
        );
    }

    fn account(role: &str, entity: Option<&str>) -> Account {
        Account {
            login: "nadia".to_owned(),
            role: role.to_owned(),
            entity: entity.map(str::to_owned),
            password_hash: String::new(),
            disabled: false,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn staff_and_their_actors() {
        let agent = Staff::from_account(&account("agent", Some("finance"))).expect("an agent");
        assert_eq!(agent.role, Role::Agent);
        assert_eq!(agent.actor(), Actor::agent("nadia", "finance"));
        assert!(agent.require(&[Role::Agent, Role::Admin]).is_ok());
        assert!(matches!(
            agent.require(&[Role::Auditor]),
            Err(ApiError::Forbidden)
        ));
        assert!(matches!(agent.require(&[]), Err(ApiError::Forbidden)));

        let auditor = Staff::from_account(&account("auditor", None)).expect("an auditor");
        assert_eq!(auditor.entity, None);
        assert_eq!(auditor.actor(), Actor::staff("nadia", "auditor"));
        assert!(auditor.require(&[Role::Auditor]).is_ok());
        assert!(matches!(
            auditor.require(&[Role::Agent]),
            Err(ApiError::Forbidden)
        ));
    }

    #[test]
    fn a_stored_account_breaking_the_rules_is_no_staff() {
        assert_eq!(
            Staff::from_account(&account("agent", None)),
            Err(AccountError::AgentWithoutEntity)
        );
        assert_eq!(
            Staff::from_account(&account("admin", Some("finance"))),
            Err(AccountError::EntityOnNonAgent(Role::Admin))
        );
        assert_eq!(
            Staff::from_account(&account("root", None)),
            Err(AccountError::UnknownRole(UnknownRole("root".to_owned())))
        );
    }
}
