-- Bearer tokens of the API (brain_api.security.token_store): only sha256 of the secret is stored.
-- A revocation is a newer version of the row; readers take the newest version per token_id.
CREATE TABLE IF NOT EXISTS api_tokens
(
    token_id      String,
    secret_sha256 String,
    role          LowCardinality(String),
    department    String,
    cells         Array(String),
    label         String,
    created_by    String,
    created_at    DateTime64(3, 'UTC'),
    expires_at    Nullable(DateTime64(3, 'UTC')),
    revoked_at    Nullable(DateTime64(3, 'UTC')),
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY token_id;
