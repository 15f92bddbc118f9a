"""``HttpFetcher``: the ``Fetcher`` port on aiohttp — conditional GET with time, size and
redirect caps, and errors a user can act on.

Use it as ``async with HttpFetcher() as fetcher: await fetcher.fetch(url, etag=…)``; it owns one
``aiohttp.ClientSession`` for its lifetime.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Self

import aiohttp
from yarl import URL

from bot.domain import FeedError, FetchResult

if TYPE_CHECKING:
    from bot.ports import Fetcher

__all__ = ["DEFAULT_USER_AGENT", "HttpFetcher"]

DEFAULT_USER_AGENT = "briefbot/0.1 (+https://github.com/briefbot/briefbot)"
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/feed+json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


class HttpFetcher:
    """Conditional GETs of feeds over HTTP(S).

    Every failure is a ``FeedError`` whose message says what happened and what to do: a
    connection or read timeout (``connect_timeout``, ``read_timeout`` seconds of silence), the
    whole fetch running past ``total_timeout``, a body over ``max_body_bytes`` (counted after
    decompression), more than ``max_redirects`` redirects, an HTTP error status, a scheme other
    than http or https.
    """

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_body_bytes: int = 15 * 1024 * 1024,
        max_redirects: int = 5,
        user_agent: str = DEFAULT_USER_AGENT,
        total_timeout: float = 120.0,
    ) -> None:
        if min(connect_timeout, read_timeout, total_timeout) <= 0:
            raise ValueError("timeouts must be positive")
        if max_body_bytes <= 0 or max_redirects < 0:
            raise ValueError("max_body_bytes must be positive and max_redirects not negative")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.max_body_bytes = max_body_bytes
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=self.connect_timeout,
            sock_connect=self.connect_timeout,
            sock_read=self.read_timeout,
        )
        self._session = aiohttp.ClientSession(
            timeout=timeout,
            headers={"User-Agent": self.user_agent, "Accept": _ACCEPT},
            connector=aiohttp.TCPConnector(limit=64, limit_per_host=4, ttl_dns_cache=300),
            auto_decompress=True,
            raise_for_status=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """One conditional GET of ``url``: status 200 (or another 2xx) with the body, or 304
        with ``body=None``. Raises ``FeedError`` on anything else.

        ``etag`` and ``last_modified`` of the result are the validators to send next time: the
        server's, or on a 304 that repeats none, the ones given here.
        """
        if self._session is None:
            raise RuntimeError("HttpFetcher is not open; use `async with HttpFetcher() as f:`")
        target = _parse_url(url)
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with asyncio.timeout(self.total_timeout):
                result = await self._follow(self._session, target, url, headers)
        except TimeoutError as e:  # only the overall deadline: aiohttp's own are handled inside
            raise FeedError(
                f"timed out after {self.total_timeout:g} s fetching {url}: the whole download "
                "must finish within that; the site is too slow or the feed too big"
            ) from e
        if result.status == 304 and (result.etag is None or result.last_modified is None):
            # Servers often omit validators on a 304; the ones sent are still the current ones.
            result = replace(
                result,
                etag=result.etag or etag,
                last_modified=result.last_modified or last_modified,
            )
        return result

    # --- internals ----------------------------------------------------------------------------

    async def _check_destination(self, url: URL) -> None:
        """Refuse a destination the bot must not reach; called for the URL and every redirect.

        This is where the SSRF guard goes (a later issue): refuse loopback, private,
        link-local and other internal addresses. It must judge the address actually connected
        to (a resolver or connector hook), not only the host name, or DNS rebinding gets past.
        """
        return None

    async def _follow(
        self,
        session: aiohttp.ClientSession,
        target: URL,
        url: str,
        headers: dict[str, str],
    ) -> FetchResult:
        visited = {target}
        redirects = 0
        while True:
            await self._check_destination(target)
            try:
                async with session.get(target, headers=headers, allow_redirects=False) as resp:
                    if resp.status in _REDIRECTS:
                        nxt = _redirect_target(resp, target, url)
                    else:
                        return await self._result(resp, target, url)
            except aiohttp.ClientError as e:
                raise self._network_error(e, target, url) from e
            if redirects >= self.max_redirects:
                how = (
                    "it redirects in a loop" if nxt in visited else f"the last one points to {nxt}"
                )
                raise FeedError(
                    f"too many redirects (limit {self.max_redirects}) fetching {url}: {how}; "
                    "use the URL the site finally serves the feed from"
                )
            redirects += 1
            visited.add(nxt)
            target = nxt

    async def _result(self, resp: aiohttp.ClientResponse, target: URL, url: str) -> FetchResult:
        etag = resp.headers.get("ETag")
        last_modified = resp.headers.get("Last-Modified")
        content_type = resp.headers.get("Content-Type")
        final_url = str(resp.url)
        if resp.status == 304:
            return FetchResult(
                status=304,
                body=None,
                etag=etag,
                last_modified=last_modified,
                final_url=final_url,
                content_type=content_type,
            )
        if not 200 <= resp.status < 300:
            raise FeedError(_status_message(resp.status, resp.reason, target, url))
        body = await self._read_body(resp, url)
        return FetchResult(
            status=resp.status,
            body=body,
            etag=etag,
            last_modified=last_modified,
            final_url=final_url,
            content_type=content_type,
        )

    async def _read_body(self, resp: aiohttp.ClientResponse, url: str) -> bytes:
        cap = self.max_body_bytes
        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        declared = resp.content_length
        if declared is not None and declared > cap and encoding == "identity":
            raise FeedError(_too_big(url, cap, f"it announced {declared:,} bytes"))
        body = bytearray()
        async for chunk in resp.content.iter_chunked(_CHUNK):  # decoded (decompressed) bytes
            body += chunk
            if len(body) > cap:
                raise FeedError(_too_big(url, cap, "it kept sending past that"))
        return bytes(body)

    def _network_error(self, e: aiohttp.ClientError, target: URL, url: str) -> FeedError:
        host = target.host or url
        if isinstance(e, aiohttp.ConnectionTimeoutError):
            return FeedError(
                f"timed out after {self.connect_timeout:g} s connecting to {host} ({url}); "
                "the site is unreachable or very slow, will retry"
            )
        if isinstance(e, aiohttp.ServerTimeoutError):
            return FeedError(
                f"timed out after {self.read_timeout:g} s reading from {host} ({url}): the "
                "server stopped sending; will retry"
            )
        if isinstance(e, aiohttp.ClientConnectorDNSError):
            return FeedError(
                f"could not resolve the host name {host} ({url}); check the feed URL, and that "
                "this machine can reach the internet (DNS)"
            )
        if isinstance(e, aiohttp.ClientConnectorCertificateError):
            return FeedError(
                f"the TLS certificate of {host} is not valid ({e.certificate_error}); "
                "the site must fix it"
            )
        if isinstance(e, aiohttp.ClientConnectorError):
            reason = e.os_error.strerror or str(e.os_error) or type(e.os_error).__name__
            return FeedError(f"could not connect to {host} ({url}): {reason}; will retry")
        if isinstance(e, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
            return FeedError(
                f"the connection to {host} broke while fetching {url} ({e}); will retry"
            )
        return FeedError(f"network error fetching {url}: {type(e).__name__}: {e}; will retry")


def _parse_url(url: str) -> URL:
    raw = url.strip()
    try:
        target = URL(raw)
    except (ValueError, TypeError) as e:
        raise FeedError(f"{raw!r} is not a valid URL; check the feed URL") from e
    if not target.scheme:
        raise FeedError(f"{raw!r} is not an absolute URL; write it with https:// or http://")
    if target.scheme not in ("http", "https"):
        raise FeedError(
            f"{raw} uses {target.scheme}://; only http:// and https:// feeds can be fetched"
        )
    if not target.host:
        raise FeedError(f"{raw!r} has no host name; check the feed URL")
    return target


def _redirect_target(resp: aiohttp.ClientResponse, current: URL, url: str) -> URL:
    location = resp.headers.get("Location", "").strip()
    if not location:
        raise FeedError(
            f"HTTP {resp.status} redirect from {current} without a Location; the site is "
            "misconfigured, check the feed URL"
        )
    try:
        nxt = current.join(URL(location))
    except (ValueError, TypeError) as e:
        raise FeedError(f"{current} redirects to an invalid URL {location!r}") from e
    if nxt.scheme not in ("http", "https") or not nxt.host:
        raise FeedError(
            f"{url} redirects to {nxt}, which is not an http:// or https:// URL; refused"
        )
    return nxt.with_fragment(None)


def _status_message(status: int, reason: str | None, target: URL, url: str) -> str:
    where = str(target) if str(target) == url else f"{target} (redirected from {url})"
    head = f"HTTP {status} {reason or ''}".rstrip() + f" from {where}"
    if status in (404, 410):
        hint = "check the feed URL"
    elif status in (401, 403):
        hint = "the site refuses the bot (it may block automated clients or need a login)"
    elif status == 429:
        hint = "the site is rate-limiting the bot; will retry later"
    elif status >= 500:
        hint = "the site is failing; will retry"
    else:
        hint = "the site rejected the request; check the feed URL"
    return f"{head}: {hint}"


def _too_big(url: str, cap: int, how: str) -> str:
    return (
        f"the response from {url} is larger than the {_format_bytes(cap)} cap on a feed "
        f"(counted after decompression; {how}); use a smaller feed of the site"
    )


def _format_bytes(n: int) -> str:
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n:,} bytes"


if TYPE_CHECKING:
    _conforms: Fetcher = HttpFetcher()  # mypy checks that HttpFetcher satisfies the port
