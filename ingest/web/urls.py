"""URLs as names: which text is a web URL, and the one spelling of a URL an article is named by."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that say where a click came from, not which page it is.
_TRACKING = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref_src", "cmpid"}
)


def canonical_url(url: str) -> str:
    """``url`` normalised for naming: scheme and host in lower case, no default port, no fragment,
    no tracking parameters (``utm_*`` and the common click ids); the other parameters kept in order."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def is_web_url(text: str) -> bool:
    """An http(s) URL with a host: what ``khabar ingest`` fetches instead of reading as a file, and
    an article holder that is a page, not a file (never pruned as a file that is gone)."""
    parts = urlsplit(text.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def same_site(a: str, b: str) -> bool:
    """The same host, give or take a www., m. or amp. prefix (an AMP page names its main one)."""

    def site(url: str) -> str:
        host = (urlsplit(url).hostname or "").lower()
        for prefix in ("www.", "m.", "amp."):
            host = host.removeprefix(prefix)
        return host

    return site(a) == site(b) != ""
