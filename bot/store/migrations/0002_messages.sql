-- Posts keep the neutral message they were rendered from (JSON, bot.messages), so that every
-- platform renders and edits it its own way; the plain text stays beside it. A post may reply
-- in the thread of an earlier one (an update's "more coverage" note under its alert).
ALTER TABLE outbox ADD COLUMN message TEXT;
ALTER TABLE outbox ADD COLUMN thread_of TEXT;

-- Delivery reads the head of each channel's queue.
CREATE INDEX outbox_pending_channel ON outbox (channel_key, id) WHERE state = 'pending';

-- Why a channel's delivery is paused (the bot was removed from it, the workspace uninstalled it).
ALTER TABLE channels ADD COLUMN pause_reason TEXT;

-- What a running bot says about itself, for `briefbot status` in another process: one JSON
-- document per part (the process, each platform).
CREATE TABLE runtime (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
