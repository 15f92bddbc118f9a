"""Getting feeds in: fetch (async HTTP), parse (bytes -> entries, pure), normalize (pure)."""
