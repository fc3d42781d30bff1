//! Captchas, uploads, tokens, idempotency keys and staff accounts on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::PostgresStore;
use crate::codec::{
    self, from_sql, to_sql, truncate_micros, unique_as_account_exists, unique_as_invalid,
    validate_account,
};
use crate::services::{Account, IdempotencyStart, Token, Upload};
use crate::{Services, StoreError};

/// How often `idempotency_begin` looks again when the key it collided with vanished.
const IDEMPOTENCY_ATTEMPTS: usize = 3;

#[async_trait]
impl Services for PostgresStore {
    async fn captcha_insert(
        &self,
        id: &str,
        answer_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO captchas (id, answer_hash, expires_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(answer_hash)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(|e| unique_as_invalid(e, "captcha id"))?;
        Ok(())
    }

    async fn captcha_consume(
        &self,
        id: &str,
        answer_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // One statement: of concurrent attempts, exactly one finds `used_at` still NULL.
        let stored: Option<String> = sqlx::query_scalar(
            "UPDATE captchas SET used_at = $2 \
             WHERE id = $1 AND used_at IS NULL AND expires_at > $2 RETURNING answer_hash",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(stored.is_some_and(|stored| codec::same_hash(&stored, answer_hash)))
    }

    async fn upload_insert(&self, upload: &Upload) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO uploads (token, filename, size, media_type, sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&upload.token)
        .bind(&upload.filename)
        .bind(to_sql(upload.size, "an upload size")?)
        .bind(&upload.media_type)
        .bind(&upload.sha256)
        .bind(upload.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| unique_as_invalid(e, "upload token"))?;
        Ok(())
    }

    async fn upload_get(&self, token: &str) -> Result<Option<Upload>, StoreError> {
        let row = sqlx::query(
            "SELECT token, filename, size, media_type, sha256, created_at \
             FROM uploads WHERE token = $1",
        )
        .bind(token)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode_upload).transpose()
    }

    async fn token_insert(&self, token: &Token) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tokens (token_hash, kind, subject, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&token.token_hash)
        .bind(&token.kind)
        .bind(&token.subject)
        .bind(token.expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| unique_as_invalid(e, "token"))?;
        Ok(())
    }

    async fn token_get(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Token>, StoreError> {
        let row = sqlx::query(
            "SELECT token_hash, kind, subject, expires_at FROM tokens \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Token {
            token_hash: row.try_get("token_hash")?,
            kind: row.try_get("kind")?,
            subject: row.try_get("subject")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    async fn token_delete_subject(&self, kind: &str, subject: &str) -> Result<u64, StoreError> {
        let deleted = sqlx::query("DELETE FROM tokens WHERE kind = $1 AND subject = $2")
            .bind(kind)
            .bind(subject)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected())
    }

    async fn account_insert(&self, account: &Account) -> Result<(), StoreError> {
        validate_account(account)?;
        sqlx::query(
            "INSERT INTO accounts \
             (login, role, entity, password_hash, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&account.login)
        .bind(&account.role)
        .bind(&account.entity)
        .bind(&account.password_hash)
        .bind(account.disabled)
        .bind(truncate_micros(account.created_at))
        .execute(&self.pool)
        .await
        .map_err(|e| unique_as_account_exists(e, &account.login))?;
        Ok(())
    }

    async fn account_get(&self, login: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(
            "SELECT login, role, entity, password_hash, disabled, created_at \
             FROM accounts WHERE login = $1",
        )
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode_account).transpose()
    }

    async fn account_list(&self) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(
            "SELECT login, role, entity, password_hash, disabled, created_at \
             FROM accounts ORDER BY login",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_account).collect()
    }

    async fn account_set_disabled(&self, login: &str, disabled: bool) -> Result<bool, StoreError> {
        let updated =
            sqlx::query("UPDATE accounts SET disabled = $2, updated_at = $3 WHERE login = $1")
                .bind(login)
                .bind(disabled)
                .bind(codec::now())
                .execute(&self.pool)
                .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<IdempotencyStart, StoreError> {
        for _ in 0..IDEMPOTENCY_ATTEMPTS {
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (scope, idem_key, request_hash, status, created_at) \
                 VALUES ($1, $2, $3, 'started', $4) ON CONFLICT (scope, idem_key) DO NOTHING",
            )
            .bind(scope)
            .bind(key)
            .bind(request_hash)
            .bind(now)
            .execute(&self.pool)
            .await?;
            if inserted.rows_affected() == 1 {
                return Ok(IdempotencyStart::Started);
            }

            let row = sqlx::query(
                "SELECT request_hash, status, response_status, response_body \
                 FROM idempotency_keys WHERE scope = $1 AND idem_key = $2",
            )
            .bind(scope)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
            // Abandoned between the two statements: try to take the key again.
            let Some(row) = row else { continue };
            return codec::found_idempotency_key(
                request_hash,
                &row.try_get::<String, _>("request_hash")?,
                &row.try_get::<String, _>("status")?,
                row.try_get::<Option<i32>, _>("response_status")?
                    .map(i64::from),
                row.try_get("response_body")?,
            );
        }
        Err(StoreError::Invalid(format!(
            "idempotency key {scope}/{key} keeps changing"
        )))
    }

    async fn idempotency_complete(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE idempotency_keys \
             SET status = 'completed', response_status = $3, response_body = $4 \
             WHERE scope = $1 AND idem_key = $2 AND status = 'started'",
        )
        .bind(scope)
        .bind(key)
        .bind(i32::from(status))
        .bind(body)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Invalid(format!(
                "idempotency key {scope}/{key} is not started"
            )));
        }
        Ok(())
    }

    async fn idempotency_abandon(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM idempotency_keys \
             WHERE scope = $1 AND idem_key = $2 AND status = 'started'",
        )
        .bind(scope)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn decode_upload(row: &PgRow) -> Result<Upload, StoreError> {
    let created_at: DateTime<Utc> = row.try_get("created_at")?;
    Ok(Upload {
        token: row.try_get("token")?,
        filename: row.try_get("filename")?,
        size: from_sql(row.try_get("size")?, "an upload size")?,
        media_type: row.try_get("media_type")?,
        sha256: row.try_get("sha256")?,
        created_at: truncate_micros(created_at),
    })
}

fn decode_account(row: &PgRow) -> Result<Account, StoreError> {
    let created_at: DateTime<Utc> = row.try_get("created_at")?;
    Ok(Account {
        login: row.try_get("login")?,
        role: row.try_get("role")?,
        entity: row.try_get("entity")?,
        password_hash: row.try_get("password_hash")?,
        disabled: row.try_get("disabled")?,
        created_at: truncate_micros(created_at),
    })
}
