"""The story gate, topic tagging, resolving a topic a user names, and language guessing (pure)."""
