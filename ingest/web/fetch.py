"""Fetching pages and feeds politely and safely: one ``Fetcher`` per run, over one httpx client.

httpx does the HTTP (connections, redirects, timeouts, streaming) and ``urllib.robotparser`` reads
robots.txt; what no library does for us, and is written here, is the policy around them:

- a bounded number of retries with exponential backoff on what may pass (connect errors,
  timeouts, 5xx, 429), honouring a server's Retry-After up to a cap;
- a minimum delay between two requests to the same host, so following forty feeds of one site
  does not hammer it;
- robots.txt read once per host per fetcher (missing = allowed, as robotparser does);
- conditional GET (ETag, Last-Modified): 304 means unchanged and costs no body;
- a size limit enforced while streaming, so a huge page is refused without being read into memory;
- a content-type check, so an image or a PDF is not handed to the HTML extractor.

Every failure is a :class:`FetchError` with the URL and a plain reason; callers report it and go
on with the next URL. The clock and the sleep are injectable so tests do not wait for real.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from ingest.web.urls import is_web_url

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("xml", "rss", "atom", "text/plain", "application/octet-stream")
ROBOTS_MAX_BYTES = 500_000  # robots.txt read up to this (RFC 9309 asks parsers for 500 KiB at least)
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class FetchError(Exception):
    """A URL that could not be fetched, and why, in words a user can act on."""

    def __init__(self, url: str, reason: str):
        self.url, self.reason = url, reason
        super().__init__(f"{url}: {reason}")


@dataclass
class Fetched:
    """A fetched URL. ``status`` 304: unchanged since the ETag/Last-Modified given (no content)."""

    url: str  # as asked
    final_url: str  # after redirects
    status: int
    content: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    """Fetches URLs under one policy (see the module docstring). Safe to share between threads.

    ``timeout``: seconds to connect and between two reads; ``retries``: extra attempts after the
    first; ``backoff``: seconds before the first retry, doubled each time; ``max_retry_after``:
    the most a server's Retry-After is waited; ``host_delay``: seconds between two requests to
    one host; ``max_bytes``: the largest body read; ``max_seconds``: the longest one body may
    take to arrive (the timeout is between two reads, so a server trickling bytes would pass it).
    """

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 1.0,
        max_retry_after: float = 60.0,
        host_delay: float = 1.0,
        max_bytes: int = 5_000_000,
        max_seconds: float = 120.0,
        respect_robots: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ):
        self.user_agent = user_agent
        self.retries, self.backoff, self.max_retry_after = retries, backoff, max_retry_after
        self.host_delay, self.max_bytes, self.respect_robots = host_delay, max_bytes, respect_robots
        self._clock, self._sleep = clock, sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            headers={"User-Agent": user_agent},
            transport=transport,
        )
        self._timeout, self.max_seconds = timeout, max_seconds
        self._lock = threading.Lock()
        self._last_request: dict[str, float] = {}  # host -> clock() of its last request
        self._robots: dict[str, RobotFileParser | None] = {}  # origin -> rules (None: allow all)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- public -----------------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        etag: str = "",
        last_modified: str = "",
        accept: tuple[str, ...] | None = HTML_TYPES,
    ) -> Fetched:
        """The URL's body (or a 304 when ``etag``/``last_modified`` still hold). ``accept``:
        content types taken (substrings; None: any). Raises :class:`FetchError`."""
        if not is_web_url(url):
            raise FetchError(url, "not an http(s) URL")
        if self.respect_robots and not self.allowed(url):
            raise FetchError(url, "robots.txt of the site forbids fetching it")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            try:
                fetched = self._get(url, headers, accept)
            except _Retry as retry:
                if attempt >= self.retries:
                    raise FetchError(url, retry.reason) from None
                wait = self.backoff * (2**attempt)
                if retry.after is not None:
                    wait = max(wait, min(retry.after, self.max_retry_after))
                log.info("%s: %s; retrying in %.1f s", url, retry.reason, wait)
                self._sleep(wait)
                attempt += 1
                continue
            # A redirect may lead where robots.txt forbids: what it led to is then not used.
            if self.respect_robots and fetched.final_url != url and not self.allowed(fetched.final_url):
                raise FetchError(url, f"it redirects to {fetched.final_url}, which robots.txt forbids")
            return fetched

    def allowed(self, url: str) -> bool:
        """Whether the site's robots.txt lets our user agent fetch ``url`` (read once per site)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            known = origin in self._robots
        if not known:
            rules = self._read_robots(origin)
            with self._lock:
                self._robots[origin] = rules
        rules = self._robots[origin]
        return rules is None or rules.can_fetch(self.user_agent, url)

    # --- inside -----------------------------------------------------------------------------

    def _read_robots(self, origin: str) -> RobotFileParser | None:
        """The site's rules, as urllib.robotparser reads them: a missing robots.txt (404 and other
        4xx) allows everything, 401/403 forbid everything. A robots.txt that cannot be fetched at
        all (server error, timeout) is taken as allowing: the page's own fetch then says why the
        site failed, which is the more useful reason."""
        url = origin + "/robots.txt"
        rules = RobotFileParser(url)
        body = bytearray()
        try:
            self._wait_for_host(url)
            with self._client.stream("GET", url) as response:
                status = response.status_code
                if status == 200:
                    for piece in response.iter_bytes():
                        body += piece
                        if len(body) >= ROBOTS_MAX_BYTES:  # the rest is ignored, as Google does
                            break
        except httpx.HTTPError as err:
            log.info("%s: not read (%s); taken as allowing", url, err)
            return None
        if status in (401, 403):
            rules.disallow_all = True
        elif status == 200:
            rules.parse(bytes(body[:ROBOTS_MAX_BYTES]).decode("utf-8", "replace").splitlines())
        else:
            return None
        return rules

    def _wait_for_host(self, url: str) -> None:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            last = self._last_request.get(host)
            now = self._clock()
            wait = 0.0 if last is None else max(0.0, last + self.host_delay - now)
            # Book the slot before sleeping, so two threads do not both take it.
            self._last_request[host] = now + wait
        if wait > 0:
            self._sleep(wait)

    def _get(self, url: str, headers: dict[str, str], accept: tuple[str, ...] | None) -> Fetched:
        self._wait_for_host(url)
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status in _RETRY_STATUSES:
                    raise _Retry(_status_reason(response), _retry_after(response.headers.get("Retry-After")))
                fetched = Fetched(
                    url,
                    str(response.url),
                    status,
                    content_type=response.headers.get("Content-Type", ""),
                    etag=response.headers.get("ETag", ""),
                    last_modified=response.headers.get("Last-Modified", ""),
                )
                if status == 304:
                    return fetched
                if status >= 400:
                    raise FetchError(url, _status_reason(response))
                if status != 200:
                    answered = f"{status} {response.reason_phrase}"
                    raise FetchError(url, f"the server answered {answered}, not a page")
                kind = fetched.content_type.split(";")[0].strip().lower()
                if accept is not None and kind and not any(a in kind for a in accept):
                    raise FetchError(url, f"it is {kind}, not a page Khabar reads")
                fetched.content = self._read_body(url, response)
                return fetched
        except httpx.TimeoutException:
            raise _Retry(f"timed out (no answer within {self._timeout:g} s)") from None
        except httpx.TooManyRedirects:
            raise FetchError(url, "too many redirects") from None
        except httpx.TransportError as err:
            raise _Retry(f"could not connect ({type(err).__name__}: {err})") from None

    def _read_body(self, url: str, response: httpx.Response) -> bytes:
        """The body, read in pieces up to ``max_bytes``: a huge page is refused, not held."""
        too_big = f"it is over the limit of {self.max_bytes:,} bytes a page (the fetch_max_bytes setting)"
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(url, too_big)
        pieces: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.max_seconds
        for piece in response.iter_bytes():
            size += len(piece)
            if size > self.max_bytes:
                raise FetchError(url, too_big)
            if time.monotonic() > deadline:
                raise FetchError(
                    url, f"it took over {self.max_seconds:g} s to arrive (the fetch_max_seconds setting)"
                )
            pieces.append(piece)
        return b"".join(pieces)


class _Retry(Exception):
    """A failure that may pass: tried again after a backoff, reported when the tries run out."""

    def __init__(self, reason: str, after: float | None = None):
        super().__init__(reason)
        self.reason, self.after = reason, after


def _status_reason(response: httpx.Response) -> str:
    status = response.status_code
    if status == 404 or status == 410:
        return f"the page is gone ({status} {response.reason_phrase})"
    if status >= 500:
        return f"the server failed ({status} {response.reason_phrase})"
    return f"the server refused it ({status} {response.reason_phrase})"


def _retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (seconds, or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
