"""HttpFetcher against a real aiohttp server on 127.0.0.1: what the bot does with what sites
actually answer."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from bot.domain import FeedError
from bot.ingest.backoff import backoff_delay
from bot.ingest.fetch import DEFAULT_USER_AGENT, HttpFetcher
from bot.ingest.parse import parse_feed

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Loopback News</title>
<item><title>Talks resume</title><link>https://loopback.example/1</link>
<guid>loopback-1</guid><description>Envoys meet again.</description></item>
</channel></rss>"""
ETAG = '"v1"'
LAST_MODIFIED = "Sat, 03 Jan 2026 12:00:00 GMT"
HTML = b"<!DOCTYPE html><html><head><title>Home</title></head><body>Hi</body></html>"


@dataclass
class Server:
    base: str
    never: asyncio.Event
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def headers_for(self, path: str) -> list[dict[str, str]]:
        return [h for p, h in self.requests if p == path]


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    never = asyncio.Event()  # set only at teardown, so hanging handlers can finish
    state = Server(base="", never=never)

    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        state.requests.append((request.path, dict(request.headers)))
        return await handler(request)

    async def feed(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == ETAG:
            return web.Response(status=304, headers={"ETag": ETAG})
        if request.headers.get("If-Modified-Since") == LAST_MODIFIED:
            return web.Response(status=304)  # no validators repeated, as many servers do
        return web.Response(
            body=FEED,
            content_type="application/rss+xml",
            headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED},
        )

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="nope")

    async def hang(request: web.Request) -> web.Response:
        await never.wait()
        return web.Response(body=FEED)

    async def stall_mid_body(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        await resp.write(FEED[:40])
        await never.wait()
        return resp

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        chunk = b"<!-- padding -->" * 4096  # 64 KiB
        try:
            for _ in range(256):  # 16 MiB at most, streamed without a Content-Length
                await resp.write(chunk)
        except ConnectionError:
            pass  # the fetcher hung up, as it should
        return resp

    async def declared_big(request: web.Request) -> web.Response:
        return web.Response(body=b" " * 300_000, content_type="application/rss+xml")

    async def gzipped(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(FEED),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
        )

    async def gzip_bomb(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(b" " * 5_000_000),  # ~5 KB on the wire, 5 MB decoded
            headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
        )

    async def chain(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        target = "/feed.xml" if n == 0 else f"/chain/{n - 1}"
        raise web.HTTPMovedPermanently(location=target)

    async def loop(request: web.Request) -> web.Response:
        other = "b" if request.match_info["side"] == "a" else "a"
        raise web.HTTPFound(location=f"/loop/{other}")

    async def relative_redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(location="../feed.xml")

    async def redirect_to_file(request: web.Request) -> web.Response:
        raise web.HTTPFound(location="file:///etc/passwd")

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=HTML, content_type="text/html")

    async def laughs(request: web.Request) -> web.Response:
        return web.Response(body=_billion_laughs(), content_type="application/rss+xml")

    app = web.Application(middlewares=[record])
    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/hang", hang)
    app.router.add_get("/stall", stall_mid_body)
    app.router.add_get("/endless", endless)
    app.router.add_get("/declared-big", declared_big)
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/gzip-bomb", gzip_bomb)
    app.router.add_get("/chain/{n}", chain)
    app.router.add_get("/loop/{side}", loop)
    app.router.add_get("/sub/relative", relative_redirect)
    app.router.add_get("/to-file", redirect_to_file)
    app.router.add_get("/page", page)
    app.router.add_get("/laughs", laughs)

    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.base = f"http://{host}:{port}"
    try:
        yield state
    finally:
        never.set()
        await runner.cleanup()


def _billion_laughs() -> bytes:
    levels = ['<!ENTITY l0 "ha">'] + [
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?><!DOCTYPE rss [' + "".join(levels) + "]>"
        '<rss version="2.0"><channel><title>&l9;</title><item><title>&l9;</title>'
        "<link>https://lol.example/1</link><description>&l9;</description></item>"
        "</channel></rss>"
    ).encode()


@pytest.fixture
async def fetcher() -> AsyncIterator[HttpFetcher]:
    async with HttpFetcher(read_timeout=5.0, total_timeout=10.0) as f:
        yield f


# --- success and conditional GET --------------------------------------------------------------


async def test_200_then_304_on_the_conditional_request(
    server: Server, fetcher: HttpFetcher
) -> None:
    url = f"{server.base}/feed.xml"
    first = await fetcher.fetch(url)
    assert first.status == 200
    assert first.body == FEED
    assert first.etag == ETAG
    assert first.last_modified == LAST_MODIFIED
    assert first.content_type == "application/rss+xml"
    assert first.final_url == url

    second = await fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert second.status == 304
    assert second.body is None
    assert second.etag == ETAG

    plain, conditional = server.headers_for("/feed.xml")
    assert "If-None-Match" not in plain and "If-Modified-Since" not in plain
    assert conditional["If-None-Match"] == ETAG
    assert conditional["If-Modified-Since"] == LAST_MODIFIED
    assert conditional["User-Agent"] == DEFAULT_USER_AGENT


async def test_a_304_without_validators_keeps_the_ones_sent(
    server: Server, fetcher: HttpFetcher
) -> None:
    result = await fetcher.fetch(f"{server.base}/feed.xml", last_modified=LAST_MODIFIED)
    assert result.status == 304
    assert result.body is None
    assert result.last_modified == LAST_MODIFIED
    assert result.etag is None


async def test_the_fetched_body_parses(server: Server, fetcher: HttpFetcher) -> None:
    result = await fetcher.fetch(f"{server.base}/feed.xml")
    assert result.body is not None
    feed = parse_feed(result.body, url=result.final_url or "")
    assert [e.title for e in feed.entries] == ["Talks resume"]


async def test_a_gzip_body_is_decoded(server: Server, fetcher: HttpFetcher) -> None:
    result = await fetcher.fetch(f"{server.base}/gzip")
    assert result.body == FEED
    (request,) = server.headers_for("/gzip")
    assert "gzip" in request.get("Accept-Encoding", "")


# --- HTTP errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (404, ["HTTP 404 Not Found", "check the feed URL"]),
        (410, ["HTTP 410 Gone", "check the feed URL"]),
        (403, ["HTTP 403 Forbidden", "refuses the bot"]),
        (401, ["HTTP 401 Unauthorized", "refuses the bot"]),
        (500, ["HTTP 500 Internal Server Error", "failing; will retry"]),
        (503, ["HTTP 503 Service Unavailable", "failing; will retry"]),
    ],
)
async def test_http_errors_say_what_to_do(
    server: Server, fetcher: HttpFetcher, code: int, words: list[str]
) -> None:
    url = f"{server.base}/status/{code}"
    with pytest.raises(FeedError) as err:
        await fetcher.fetch(url)
    for word in words:
        assert word in str(err.value)
    assert url in str(err.value)


# --- timeouts ---------------------------------------------------------------------------------


async def test_a_silent_server_times_out_reading(server: Server) -> None:
    async with HttpFetcher(read_timeout=0.3) as f:
        with pytest.raises(FeedError, match=r"timed out after 0\.3 s reading"):
            await f.fetch(f"{server.base}/hang")


async def test_a_download_that_never_finishes_hits_the_total_deadline(server: Server) -> None:
    async with HttpFetcher(read_timeout=30.0, total_timeout=0.3) as f:
        with pytest.raises(FeedError, match=r"timed out after 0\.3 s fetching"):
            await f.fetch(f"{server.base}/stall")


# --- size caps --------------------------------------------------------------------------------


async def test_a_streamed_body_over_the_cap_is_cut_off(server: Server) -> None:
    async with HttpFetcher(max_body_bytes=64 * 1024) as f:
        with pytest.raises(FeedError, match="larger than the 64 KiB cap"):
            await f.fetch(f"{server.base}/endless")


async def test_a_declared_length_over_the_cap_is_refused(server: Server) -> None:
    async with HttpFetcher(max_body_bytes=100_000) as f:
        with pytest.raises(FeedError, match=r"100,000 bytes cap.*announced 300,000 bytes"):
            await f.fetch(f"{server.base}/declared-big")


async def test_the_cap_counts_decoded_bytes_of_a_gzip_body(server: Server) -> None:
    async with HttpFetcher(max_body_bytes=64 * 1024) as f:
        with pytest.raises(FeedError, match="after decompression"):
            await f.fetch(f"{server.base}/gzip-bomb")


# --- redirects --------------------------------------------------------------------------------


async def test_a_redirect_chain_within_the_limit_is_followed(
    server: Server, fetcher: HttpFetcher
) -> None:
    result = await fetcher.fetch(f"{server.base}/chain/4")  # 5 redirects: /chain/4 … /chain/0
    assert result.status == 200
    assert result.body == FEED
    assert result.final_url == f"{server.base}/feed.xml"


async def test_a_chain_one_past_the_limit_is_refused(server: Server, fetcher: HttpFetcher) -> None:
    with pytest.raises(FeedError, match=r"too many redirects \(limit 5\)"):
        await fetcher.fetch(f"{server.base}/chain/5")


async def test_a_redirect_loop_is_refused(server: Server, fetcher: HttpFetcher) -> None:
    with pytest.raises(FeedError, match=r"too many redirects \(limit 5\).*loop"):
        await fetcher.fetch(f"{server.base}/loop/a")
    assert len(server.headers_for("/loop/a")) + len(server.headers_for("/loop/b")) == 6


async def test_a_relative_redirect_is_resolved(server: Server, fetcher: HttpFetcher) -> None:
    result = await fetcher.fetch(f"{server.base}/sub/relative")
    assert result.final_url == f"{server.base}/feed.xml"
    assert result.body == FEED


async def test_a_redirect_to_a_file_url_is_refused(server: Server, fetcher: HttpFetcher) -> None:
    with pytest.raises(FeedError, match="not an http:// or https:// URL"):
        await fetcher.fetch(f"{server.base}/to-file")


# --- what is not a feed -----------------------------------------------------------------------


async def test_an_html_page_fetches_fine_and_then_fails_to_parse(
    server: Server, fetcher: HttpFetcher
) -> None:
    result = await fetcher.fetch(f"{server.base}/page")
    assert result.status == 200
    assert result.body == HTML
    with pytest.raises(FeedError, match="HTML page, not a feed"):
        parse_feed(result.body, url=f"{server.base}/page")


async def test_a_hostile_entity_document_yields_bounded_output(
    server: Server, fetcher: HttpFetcher
) -> None:
    result = await fetcher.fetch(f"{server.base}/laughs")
    assert result.body is not None
    try:
        feed = parse_feed(result.body, url=f"{server.base}/laughs")
    except FeedError:
        return
    total = len(feed.title) + sum(len(e.title) + len(e.summary) for e in feed.entries)
    assert total < 100_000


# --- refused before any request ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "only http:// and https://"),
        ("ftp://ftp.example.com/feed.xml", "only http:// and https://"),
        ("example.com/feed.xml", "not an absolute URL"),
        ("http:///feed.xml", "no host"),
    ],
)
async def test_urls_that_are_not_http_are_refused(
    fetcher: HttpFetcher, url: str, words: str
) -> None:
    with pytest.raises(FeedError, match=words):
        await fetcher.fetch(url)


async def test_a_refused_connection_is_a_feed_error() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nobody listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with HttpFetcher(connect_timeout=2.0) as f:
        with pytest.raises(FeedError, match=f"could not connect to 127.0.0.1 .*:{port}"):
            await f.fetch(f"http://127.0.0.1:{port}/feed.xml")


async def test_fetch_outside_async_with_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await HttpFetcher().fetch("http://127.0.0.1/feed.xml")


# --- backoff ----------------------------------------------------------------------------------


def test_backoff_doubles_from_base_and_stops_at_the_cap() -> None:
    delays = [backoff_delay(n, base=300.0, cap=3600.0) for n in range(0, 7)]
    assert delays == [0.0, 300.0, 600.0, 1200.0, 2400.0, 3600.0, 3600.0]


def test_backoff_survives_absurd_failure_counts() -> None:
    assert backoff_delay(10_000, base=1.0, cap=86_400.0) == 86_400.0


def test_backoff_refuses_negative_settings() -> None:
    with pytest.raises(ValueError):
        backoff_delay(1, base=-1.0, cap=10.0)
