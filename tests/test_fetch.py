"""The fetcher and the page reader against a real HTTP server on 127.0.0.1: retries with backoff,
timeouts, conditional GET, redirects, robots.txt, a per-host delay, a size limit, content types,
and articles (English and Hindi) with their dates from meta tags, JSON-LD and the text. No model."""

from __future__ import annotations

import pytest

from ingest.errors import ReadError
from ingest.web.fetch import Fetcher, FetchError
from ingest.web.pages import fetch_articles, page_article
from ingest.web.urls import canonical_url, is_web_url
from tests.http_site import Page, Site, serve_site

EN_BODY = (
    "<p>The city council approved a new budget for buses and trains on Monday. Spending on public "
    "transport rises by ten per cent, the largest rise in a decade.</p>"
    "<p>The mayor said the plan would cut traffic in the old town. Critics called it too cautious "
    "and asked for more money for cycling lanes and footpaths.</p>"
)
HI_BODY = (
    "<p>दिल्ली में मानसून की पहली बारिश हुई। मौसम विभाग ने अगले तीन दिन भारी बारिश की चेतावनी दी है। "
    "कई इलाकों में जलभराव से यातायात धीमा रहा।</p>"
    "<p>नगर निगम ने पंप लगाए हैं और लोगों से घर पर रहने को कहा है। स्कूल दो दिन बंद रहेंगे।</p>"
)


def article_page(title: str, body: str, head: str = "", lang: str = "en", before: str = "") -> str:
    return (
        f'<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f"<body><nav>Home · World · Sport</nav><article><h1>{title}</h1>{before}{body}</article>"
        "<footer>© News</footer></body></html>"
    )


class Sleeps:
    """An injected sleep: records what the fetcher would have waited, and waits nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def site():
    with serve_site() as s:
        yield s


def fetcher(**overrides) -> Fetcher:
    values = dict(user_agent="Khabar/test", timeout=2.0, retries=2, backoff=0.01, host_delay=0.0)
    values.update(overrides)
    return Fetcher(**values)


def test_a_server_error_is_retried_with_backoff_then_reported(site: Site):
    site.routes["/broken"] = Page("oops", status=500)
    sleeps = Sleeps()
    with fetcher(sleep=sleeps) as f, pytest.raises(FetchError) as err:
        f.fetch(site.url("/broken"))
    assert err.value.url == site.url("/broken") and "500" in err.value.reason
    assert site.hits["/broken"] == 3  # the first try and two retries
    assert sleeps.waits == [0.01, 0.02]  # doubled each time


def test_a_missing_page_is_not_retried(site: Site):
    sleeps = Sleeps()
    with fetcher(sleep=sleeps) as f, pytest.raises(FetchError, match="gone"):
        f.fetch(site.url("/nothing"))
    assert site.hits["/nothing"] == 1 and sleeps.waits == []


def test_retry_after_is_honoured_up_to_the_cap(site: Site):
    answers = iter(
        [Page("slow down", status=429, headers={"Retry-After": "30"}), Page(article_page("T", EN_BODY))]
    )
    site.routes["/busy"] = lambda headers: next(answers)
    sleeps = Sleeps()
    with fetcher(sleep=sleeps, max_retry_after=2.5) as f:
        assert f.fetch(site.url("/busy")).status == 200
    assert sleeps.waits == [2.5]


def test_a_hanging_page_times_out_and_the_next_page_is_still_fetched(site: Site):
    site.routes["/hangs"] = Page(article_page("Late", EN_BODY), delay=3.0)
    site.routes["/fine"] = Page(article_page("Budget approved", EN_BODY))
    with fetcher(timeout=0.5, retries=0) as f:
        articles, problems = fetch_articles(f, [site.url("/hangs"), site.url("/fine")])
    assert [p.path for p in problems] == [site.url("/hangs")]
    assert "timed out" in problems[0].reason
    assert [a.title for a in articles] == ["Budget approved"]


def test_a_conditional_get_answers_not_modified_the_second_time(site: Site):
    site.routes["/feed.xml"] = Page("<rss/>", content_type="application/rss+xml", etag='"v1"')
    with fetcher() as f:
        first = f.fetch(site.url("/feed.xml"), accept=None)
        second = f.fetch(site.url("/feed.xml"), etag=first.etag, accept=None)
    assert first.status == 200 and first.etag == '"v1"' and first.content == b"<rss/>"
    assert second.not_modified and second.content == b""
    assert site.requests[-1][1].get("if-none-match") == '"v1"'


def test_redirects_are_followed_and_the_final_url_recorded(site: Site):
    site.routes["/short"] = Page(status=301, headers={"Location": "/news/budget"})
    site.routes["/news/budget"] = Page(article_page("Budget approved", EN_BODY))
    with fetcher() as f:
        fetched = f.fetch(site.url("/short"))
        article = page_article(fetched)
    assert fetched.final_url == site.url("/news/budget")
    assert article.id == article.url == site.url("/news/budget")  # named where the story lives


def test_robots_txt_forbids_a_path_and_is_read_once(site: Site):
    site.routes["/robots.txt"] = Page("User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.routes["/private/story"] = Page(article_page("Secret", EN_BODY))
    site.routes["/public/story"] = Page(article_page("Open", EN_BODY))
    with fetcher() as f:
        with pytest.raises(FetchError, match=r"robots\.txt"):
            f.fetch(site.url("/private/story"))
        assert f.fetch(site.url("/public/story")).status == 200
    assert site.hits["/private/story"] == 0 and site.hits["/robots.txt"] == 1
    site.routes["/go"] = Page(status=302, headers={"Location": "/private/story"})
    with (
        fetcher() as f,
        pytest.raises(FetchError, match=r"redirects to .*/private/story, which robots\.txt forbids"),
    ):
        f.fetch(site.url("/go"))
    with fetcher(respect_robots=False) as f:
        assert f.fetch(site.url("/private/story")).status == 200


def test_the_user_agent_is_ours_and_a_missing_robots_txt_allows(site: Site):
    site.routes["/story"] = Page(article_page("Open", EN_BODY))
    with fetcher(user_agent="Khabar/9.9") as f:
        f.fetch(site.url("/story"))
    assert site.hits["/robots.txt"] == 1  # asked, answered 404: allowed
    assert {headers["user-agent"] for _, headers in site.requests} == {"Khabar/9.9"}


def test_a_huge_page_is_refused_while_it_streams(site: Site):
    site.routes["/huge"] = Page(size=20_000_000)  # no Content-Length
    site.routes["/declared"] = Page("x" * 300_000)  # Content-Length over the limit
    with fetcher(max_bytes=100_000) as f:
        for path in ("/huge", "/declared"):
            with pytest.raises(FetchError, match="over the limit of 100,000 bytes"):
                f.fetch(site.url(path))


def test_a_page_that_trickles_in_is_cut_off(site: Site):
    site.routes["/slow"] = Page(size=1_000_000, trickle=0.05)  # about 16 pieces, 0.8 s
    with fetcher(max_seconds=0.2) as f, pytest.raises(FetchError, match=r"took over 0\.2 s"):
        f.fetch(site.url("/slow"))


def test_a_page_that_is_not_html_is_refused(site: Site):
    site.routes["/photo.png"] = Page(b"\x89PNG....", content_type="image/png")
    with fetcher() as f, pytest.raises(FetchError, match="image/png"):
        f.fetch(site.url("/photo.png"))


def test_requests_to_one_host_keep_the_delay_between_them(site: Site):
    site.routes["/a"] = Page(article_page("A", EN_BODY))
    sleeps = Sleeps()
    with fetcher(host_delay=1.5, sleep=sleeps, clock=lambda: 100.0, respect_robots=False) as f:
        f.fetch(site.url("/a"))
        f.fetch(site.url("/a"))
    assert sleeps.waits == [1.5]


def test_article_dates_come_from_meta_tags_json_ld_and_the_text(site: Site):
    meta = (
        '<meta property="article:published_time" content="2026-11-30T08:15:00+05:30">'
        '<meta name="author" content="Asha Rao">'
        f'<link rel="canonical" href="{site.url("/en/budget")}?utm_source=rss&amp;id=7#top">'
    )
    json_ld = (
        '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
        '"headline": "मानसून की पहली बारिश", "datePublished": "2026-11-29T10:00:00Z"}</script>'
    )
    site.routes["/en/budget?from=feed"] = Page(article_page("Budget approved", EN_BODY, meta))
    site.routes["/hi/monsoon"] = Page(article_page("मानसून की पहली बारिश", HI_BODY, json_ld, lang="hi"))
    site.routes["/en/text-date"] = Page(
        article_page("Budget", EN_BODY, before="<p>Published on 28 November 2026</p>")
    )
    with fetcher() as f:
        en = page_article(f.fetch(site.url("/en/budget?from=feed")))
        hi = page_article(f.fetch(site.url("/hi/monsoon")))
        text = page_article(f.fetch(site.url("/en/text-date")))
        undated = page_article(
            f.fetch(site.url("/hi/monsoon")), fallback_date="Sat, 28 Nov 2026 06:00:00 GMT"
        )
    assert en.id == site.url("/en/budget?id=7")  # the page's canonical URL, without tracking
    assert (en.published, en.language, en.extra.get("author")) == ("2026-11-30", "en", "Asha Rao")
    assert (hi.published, hi.language, hi.title) == ("2026-11-29", "hi", "मानसून की पहली बारिश")
    assert "मानसून" in hi.text and "Home" not in hi.text
    assert text.published == "2026-11-28"
    assert undated.published == "2026-11-29"  # the page's own date wins over the feed's


def test_a_page_without_a_date_keeps_the_feed_entrys(site: Site):
    site.routes["/nodate"] = Page(article_page("Budget approved", EN_BODY))
    with fetcher() as f:
        article = page_article(f.fetch(site.url("/nodate")), fallback_date="Sat, 28 Nov 2026 06:00:00 GMT")
    assert article.published == "2026-11-28T06:00:00+00:00"


def test_a_page_may_not_name_another_sites_article_as_its_own(site: Site):
    head = '<link rel="canonical" href="https://other.example.org/their-story">'
    site.routes["/mine"] = Page(article_page("Budget approved", EN_BODY, head))
    with fetcher() as f:
        assert page_article(f.fetch(site.url("/mine"))).id == site.url("/mine")


def test_a_page_without_an_article_is_a_problem_naming_the_url(site: Site):
    site.routes["/empty"] = Page("<html><body><script>render()</script></body></html>")
    with fetcher() as f:
        articles, problems = fetch_articles(f, [site.url("/empty"), "ftp://example.org/x"])
    assert articles == []
    assert [p.path for p in problems] == [site.url("/empty"), "ftp://example.org/x"]
    assert all(isinstance(p, ReadError) for p in problems)


def test_urls_are_named_without_tracking_fragments_or_default_ports():
    assert canonical_url("HTTPS://News.Example.org:443/a/b?utm_source=x&id=3&fbclid=y#c") == (
        "https://news.example.org/a/b?id=3"
    )
    assert canonical_url("http://example.org") == "http://example.org/"
    assert is_web_url("https://example.org/x") and not is_web_url("news/a.html") and not is_web_url("http://")
