-- Channel settings for briefings and quiet hours, and what the scheduler needs to send one
-- briefing per local day: when the channel first subscribed (a first briefing looks back to
-- then, at most a day), when its briefing time was set (an instant before that is not owed),
-- and the last briefing sent.
ALTER TABLE channels ADD COLUMN quiet TEXT;
ALTER TABLE channels ADD COLUMN subscribed_at TEXT;
ALTER TABLE channels ADD COLUMN briefing_set_at TEXT;
ALTER TABLE channels ADD COLUMN last_briefing_at TEXT;
ALTER TABLE channels ADD COLUMN last_briefing_date TEXT;
