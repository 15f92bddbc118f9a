-- briefbot schema, version 1.
-- Times are ISO-8601 UTC text of fixed width ("2025-03-01T09:30:00.000000Z"), so text order is
-- time order. Booleans are 0/1. Tuples of strings are JSON arrays.

CREATE TABLE sources (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    language TEXT,
    position INTEGER,                   -- order in the last sync_sources; NULL when not listed
    active INTEGER NOT NULL DEFAULT 1   -- 0: no longer configured; its items are kept
);

CREATE TABLE poll_state (
    source_id TEXT PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    etag TEXT,
    last_modified TEXT,
    body_hash TEXT,
    last_poll_at TEXT,
    last_ok_at TEXT,
    next_poll_at TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    baselined INTEGER NOT NULL DEFAULT 0,
    feed_language TEXT
);

CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES sources (id),
    guid TEXT NOT NULL,
    link TEXT NOT NULL,                 -- canonical
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    published TEXT,
    first_seen TEXT NOT NULL,
    edited_at TEXT,
    content_hash TEXT NOT NULL,
    language TEXT,
    baseline INTEGER NOT NULL DEFAULT 0,
    on_story INTEGER NOT NULL DEFAULT 0,
    topics TEXT NOT NULL DEFAULT '[]',
    development_id TEXT,
    url TEXT NOT NULL DEFAULT '',       -- as the feed gave it; what posts cite
    UNIQUE (source_id, guid)
);

CREATE INDEX items_link ON items (link);
CREATE INDEX items_first_seen ON items (first_seen);
CREATE INDEX items_development ON items (development_id);

-- Full-text search over titles and summaries; the triggers keep it in step with items.
CREATE VIRTUAL TABLE items_fts USING fts5 (
    title,
    summary,
    content = 'items',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, title, summary) VALUES (new.id, new.title, new.summary);
END;

CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, summary)
    VALUES ('delete', old.id, old.title, old.summary);
END;

CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, summary)
    VALUES ('delete', old.id, old.title, old.summary);
    INSERT INTO items_fts (rowid, title, summary) VALUES (new.id, new.title, new.summary);
END;

CREATE TABLE developments (
    id TEXT PRIMARY KEY,
    first_seen TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    topics TEXT NOT NULL DEFAULT '[]',    -- in the development's own order
    item_ids TEXT NOT NULL DEFAULT '[]',  -- in the development's own order
    language TEXT
);

CREATE INDEX developments_first_seen ON developments (first_seen, id);

-- development_items and development_topics are derived from the JSON columns above by the
-- triggers below, so saving a development is one statement.
CREATE TABLE development_items (
    development_id TEXT NOT NULL REFERENCES developments (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    PRIMARY KEY (development_id, position)
);

CREATE INDEX development_items_item ON development_items (item_id);

-- One row per development and topic, with the development's first_seen copied in so that
-- "newest developments about a topic" is one walk down an index.
CREATE TABLE development_topics (
    development_id TEXT NOT NULL REFERENCES developments (id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (development_id, topic)
);

CREATE INDEX development_topics_recent ON development_topics (topic, first_seen, development_id);

CREATE TRIGGER developments_derive_insert AFTER INSERT ON developments BEGIN
    INSERT INTO development_items (development_id, position, item_id)
    SELECT new.id, key, value FROM json_each(new.item_ids);
    INSERT INTO development_topics (development_id, topic, first_seen)
    SELECT DISTINCT new.id, value, new.first_seen FROM json_each(new.topics);
END;

CREATE TRIGGER developments_derive_update AFTER UPDATE ON developments BEGIN
    DELETE FROM development_items WHERE development_id = old.id;
    DELETE FROM development_topics WHERE development_id = old.id;
    INSERT INTO development_items (development_id, position, item_id)
    SELECT new.id, key, value FROM json_each(new.item_ids);
    INSERT INTO development_topics (development_id, topic, first_seen)
    SELECT DISTINCT new.id, value, new.first_seen FROM json_each(new.topics);
END;

CREATE TABLE channels (
    key TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread TEXT,
    mode TEXT NOT NULL DEFAULT 'alerts',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    briefing_time TEXT,
    paused INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE subscriptions (
    channel_key TEXT NOT NULL REFERENCES channels (key) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    UNIQUE (channel_key, topic)
);

CREATE INDEX subscriptions_topic ON subscriptions (topic);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,           -- idempotency key
    channel_key TEXT NOT NULL,
    platform TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread TEXT,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    development_id TEXT,
    developments TEXT NOT NULL DEFAULT '[]',
    topics TEXT NOT NULL DEFAULT '[]',
    sources TEXT NOT NULL DEFAULT '[]',
    edit_of TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    platform_message_id TEXT,
    delivered_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL
);

CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';
CREATE INDEX outbox_development ON outbox (channel_key, development_id, id);
