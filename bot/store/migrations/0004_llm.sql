-- The LLM summarizer's ledger (bot/store/llm_ledger.py): cached model outputs and the tokens
-- spent each UTC day. Idempotent: SqliteLlmLedger.ensure_schema runs the same statements, so the
-- ledger works on a database whatever migration it has reached.

CREATE TABLE IF NOT EXISTS llm_cache (
    key TEXT PRIMARY KEY,          -- a digest of what the output was made from (see llm.py)
    text TEXT NOT NULL,            -- the grounded output, or '' when the model's was refused
    created_at TEXT NOT NULL       -- ISO-8601 UTC
);

CREATE TABLE IF NOT EXISTS llm_tokens (
    day TEXT PRIMARY KEY,          -- UTC date, YYYY-MM-DD
    tokens INTEGER NOT NULL DEFAULT 0,
    calls INTEGER NOT NULL DEFAULT 0
);
