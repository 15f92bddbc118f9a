"""A fetcher that serves a different feed document on each poll (a hand-written fake)."""

from __future__ import annotations

from bot.domain import FetchResult


class Feeds:
    """Serves ``bodies`` in turn, one a poll."""

    def __init__(self, *bodies: bytes) -> None:
        self.bodies = list(bodies)

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        return FetchResult(status=200, body=self.bodies.pop(0), final_url=url)
