-- Whether an item is a piece about the news (analysis, explainer, opinion, live blog) rather than
-- news, as the bot judged it when it read the item: by the headline's form or by meaning (the
-- fitted model of bot/topics/meaning.py). Such items are kept with the development they discuss
-- but never alerted. Items stored before this migration are judged by their headline alone.
ALTER TABLE items ADD COLUMN analysis INTEGER NOT NULL DEFAULT 0;
