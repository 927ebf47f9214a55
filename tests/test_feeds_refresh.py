"""Following feeds end to end, against a real HTTP site on 127.0.0.1 and the real model: an RSS 2.0
and an Atom feed whose entries lead to English and Hindi pages dated in meta tags, JSON-LD and
the text, to a page that is gone, one robots.txt forbids, one that fails, one that hangs, and a
redirect to a story the other feed has too. Refreshes fetch, deduplicate, keep the dates, survive
the bad pages, honour 304s, add exactly the entry a feed gained, and replace an updated story."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.records import Article
from ingest.web.refresh import FROM_SUMMARY, FeedRefresher, NotAFeed
from khabar import components
from khabar.web.render import passages_html
from tests.factories import make_passage
from tests.http_site import Page, Site, serve_site
from tests.test_cli import cli  # noqa: F401 (the fixture)
from tests.test_fetch import EN_BODY, HI_BODY, article_page

pytestmark = pytest.mark.integration  # the real bundled model

CRICKET = (
    "<p>India won the cricket final in Mumbai by six wickets on Saturday evening. The captain praised "
    "the young bowlers who took eight wickets between them.</p>"
    "<p>The next tour starts in Australia next month, with three test matches.</p>"
)
ELECTION = (
    "<p>Voters in Himachal Pradesh elected Meera Thakur as chief minister on Tuesday. She won her "
    "seat by twelve thousand votes.</p><p>Her party promised new roads to the mountain villages.</p>"
)
BUDGET_REVISED = (
    "<p>The city council revised the transport budget on Wednesday after protests. Spending on "
    "cycling lanes now doubles, while the bus fleet grows by forty buses.</p>"
    "<p>The mayor said the revision answered the critics.</p>"
)
GONE_SUMMARY = (
    "The old bridge over the Narmada reopened on Friday after two years of repairs. Traffic between "
    "the two towns is expected to halve the journey time."
)
PRIVATE_SUMMARY = "The port authority announced a new container terminal on the western coast, due in 2028."


def rss(site: Site, items: list[str]) -> Page:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Daily Wire</title>'
        f"<link>{site.url('/')}</link><description>News</description>{''.join(items)}</channel></rss>"
    )
    return Page(body, content_type="application/rss+xml; charset=utf-8", etag=f'"{len(items)}-{hash(body)}"')


def item(guid: str, link: str, title: str, date: str = "", description: str = "") -> str:
    parts = [f"<guid>{guid}</guid>", f"<link>{link}</link>", f"<title>{title}</title>"]
    if date:
        parts.append(f"<pubDate>{date}</pubDate>")
    if description:
        parts.append(f"<description>{description}</description>")
    return f"<item>{''.join(parts)}</item>"


def atom(site: Site) -> Page:
    body = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Evening Post</title><id>{site.url("/atom")}</id>
<updated>2026-11-30T12:00:00Z</updated>
<entry><id>tag:post,1</id><title>Budget approved</title><link href="{site.url("/short")}"/>
<updated>2026-11-30T09:00:00Z</updated></entry>
<entry><id>tag:post,2</id><title>India win the final</title><link href="{site.url("/en/cricket")}"/>
<updated>2026-11-28T20:00:00Z</updated><summary>India won the final.</summary></entry>
<entry><id>tag:post,3</id><title>Late story</title><link href="{site.url("/hangs")}"/>
<updated>2026-11-27T10:00:00Z</updated>
<summary>The railway board approved a new express train between Delhi and Jaipur, starting in March.</summary>
</entry></feed>"""
    return Page(
        body, content_type="application/atom+xml", headers={"Last-Modified": "Mon, 30 Nov 2026 12:00:00 GMT"}
    )


def rss_items(site: Site) -> list[str]:
    return [
        item(
            "rss-1", site.url("/en/budget?utm_source=rss"), "Budget approved", "Mon, 30 Nov 2026 03:00:00 GMT"
        ),
        item("rss-2", site.url("/hi/monsoon"), "मानसून की पहली बारिश", "Sun, 29 Nov 2026 11:00:00 GMT"),
        item(
            "rss-3",
            site.url("/gone"),
            "Narmada bridge reopens",
            "Fri, 27 Nov 2026 06:30:00 GMT",
            GONE_SUMMARY,
        ),
        item(
            "rss-4",
            site.url("/private/port"),
            "New terminal",
            "Thu, 26 Nov 2026 08:00:00 GMT",
            PRIVATE_SUMMARY,
        ),
        item("rss-5", site.url("/broken"), "Server trouble"),  # no text of its own to fall back to
    ]


def build_site(site: Site) -> None:
    canonical = f'<link rel="canonical" href="{site.url("/en/budget")}">'
    meta = f'<meta property="article:published_time" content="2026-11-30T08:15:00+05:30">{canonical}'
    json_ld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2026-11-29T10:00:00Z"}'
        "</script>"
    )
    site.routes.update(
        {
            "/robots.txt": Page("User-agent: *\nDisallow: /private/\n", content_type="text/plain"),
            "/rss.xml": rss(site, rss_items(site)),
            "/atom.xml": atom(site),
            "/en/budget?utm_source=rss": Page(article_page("Budget approved", EN_BODY, meta)),
            "/en/budget": Page(article_page("Budget approved", EN_BODY, meta)),
            "/short": Page(status=301, headers={"Location": "/en/budget"}),
            "/hi/monsoon": Page(article_page("मानसून की पहली बारिश", HI_BODY, json_ld, lang="hi")),
            "/en/cricket": Page(
                article_page("India win the final", CRICKET, before="<p>28 November 2026</p>")
            ),
            "/private/port": Page(article_page("New terminal", EN_BODY)),
            "/broken": Page("down", status=500, content_type="text/plain"),
            "/hangs": Page(article_page("Late story", EN_BODY), delay=2.0),
        }
    )


@pytest.fixture
def site():
    with serve_site() as s:
        build_site(s)
        yield s


@pytest.fixture
def settings(make_settings, embed_model):
    return make_settings(fetch_timeout=0.5, fetch_retries=0, fetch_backoff=0.0, fetch_host_delay=0.0)


@pytest.fixture
def refresher(settings):
    r = components.feed_refresher(settings)
    yield r
    r.close()


def by_article(refresher: FeedRefresher, feed_url: str) -> dict[str, tuple[str, str]]:
    return {e.article: (e.fetched_from, e.content_hash) for e in refresher.store.entries(feed_url)}


def published(refresher: FeedRefresher, content_hash: str) -> str:
    fields = refresher.ingestor.index.stored_fields(content_hash)
    assert fields is not None, "not stored"
    return fields["published"]


def test_refreshes_fetch_deduplicate_keep_dates_survive_failures_and_add_what_is_new(
    site, refresher, settings
):
    rss_url, atom_url = site.url("/rss.xml"), site.url("/atom.xml")
    assert refresher.add(rss_url).name == "Daily Wire"
    assert refresher.add(atom_url).name == "Evening Post"
    with pytest.raises(NotAFeed, match="not an RSS or Atom feed"):
        refresher.add(site.url("/en/budget"))
    assert [f.name for f in refresher.store.list()] == ["Daily Wire", "Evening Post"]

    first = refresher.refresh()
    wire, post = first.feeds
    assert (wire.new, wire.updated, wire.unchanged, wire.failed, wire.from_summary) == (4, 0, 0, 3, 2)
    # The Atom feed's redirect leads to the story the RSS feed already brought: stored once.
    assert (post.new, post.updated, post.unchanged, post.failed, post.from_summary) == (2, 0, 1, 1, 1)
    assert {f.url for f in first.failures} == {
        site.url(p) for p in ("/gone", "/private/port", "/broken", "/hangs")
    }
    reasons = {f.url: f.reason for f in first.failures}
    assert "gone" in reasons[site.url("/gone")] and "robots.txt" in reasons[site.url("/private/port")]
    assert "500" in reasons[site.url("/broken")] and "timed out" in reasons[site.url("/hangs")]
    assert not first.ok and site.hits["/private/port"] == 0

    stored = by_article(refresher, rss_url)
    budget, monsoon = site.url("/en/budget"), site.url("/hi/monsoon")
    assert set(stored) == {budget, monsoon, site.url("/gone"), site.url("/private/port")}
    assert stored[site.url("/gone")][0] == "summary" and stored[budget][0] == "page"
    # Dates: the page's meta tag, its JSON-LD, its text; the feed's own date for a summary.
    assert published(refresher, stored[budget][1]) == "2026-11-30"
    assert published(refresher, stored[monsoon][1]) == "2026-11-29"
    cricket = by_article(refresher, atom_url)[site.url("/en/cricket")][1]
    assert published(refresher, cricket) == "2026-11-28"
    assert published(refresher, stored[site.url("/gone")][1]) == "2026-11-27T06:30:00+00:00"
    # The Atom entry that led to the same story is recorded as it: not fetched again.
    assert refresher.store.entry(atom_url, "tag:post,1").article == budget
    names = refresher.ingestor.manifest.count_names()
    assert names == 6  # budget once, though two feeds and two links led to it

    # Nothing changed: both feeds answer 304 (ETag, Last-Modified) and no page is asked for.
    pages_asked = sum(n for path, n in site.hits.items() if not path.endswith(".xml"))
    second = refresher.refresh()
    assert second.ok and (second.total("new"), second.total("updated"), second.total("failed")) == (0, 0, 0)
    assert [f.status for f in second.feeds] == ["unchanged (304)", "unchanged (304)"]
    assert sum(n for path, n in site.hits.items() if not path.endswith(".xml")) == pages_asked

    # The RSS feed gains an entry: exactly that one is added (the failed one is tried again).
    site.routes["/en/election"] = Page(article_page("Meera Thakur elected", ELECTION))
    gained = [
        item("rss-6", site.url("/en/election"), "Meera Thakur elected", "Tue, 01 Dec 2026 09:00:00 GMT")
    ]
    site.routes["/rss.xml"] = rss(site, rss_items(site) + gained)
    third = refresher.refresh()
    assert (third.total("new"), third.total("updated")) == (1, 0)
    assert [f.url for f in third.failures] == [site.url("/broken")]
    assert refresher.ingestor.manifest.count_names() == names + 1

    # An updated story (new text, new entry date) replaces what was stored under its URL.
    old_hash = stored[budget][1]
    site.routes["/en/budget"] = Page(article_page("Budget revised", BUDGET_REVISED))
    revised = rss_items(site)
    revised[0] = item("rss-1", budget, "Budget revised", "Wed, 02 Dec 2026 07:00:00 GMT")
    site.routes["/rss.xml"] = rss(site, revised + gained)
    fourth = refresher.refresh()
    assert fourth.feeds[0].updated == 1 and fourth.total("new") == 0
    new_hash = by_article(refresher, rss_url)[budget][1]
    assert new_hash != old_hash and refresher.ingestor.index.stored_fields(old_hash) is None
    assert refresher.ingestor.manifest.count_names() == names + 1

    # Word alignment only breaks ties between sentences; building its encoder is not this test's.
    service = components.service(settings.model_copy(update={"alignment_weight": 0.0}), warm_up=False)
    answer = service.ask("Who was elected chief minister of Himachal Pradesh?")
    assert not answer.declined
    assert site.url("/en/election") in {c.article_id for c in answer.citations}
    assert "Thakur" in answer.text
    revised_answer = service.ask("How many buses does the bus fleet grow by?")
    assert budget in {c.article_id for c in revised_answer.citations}


def test_a_summary_article_is_marked(site, refresher):
    refresher.add(site.url("/rss.xml"))
    report = refresher.refresh()
    gone = [s for s in report.ingest.files if s.path == site.url("/gone")]
    assert gone and gone[0].status == "ingested"
    # The mark travels with the article handed to the ingestor.
    entry = refresher.store.entry(site.url("/rss.xml"), "rss-3")
    assert entry is not None and entry.fetched_from == "summary" and FROM_SUMMARY == "feed summary"
    # ... is stored with its chunks, and shown with every passage and citation of it.
    stored = refresher.ingestor.index.stored_fields(entry.content_hash)
    assert stored is not None and stored["text_from"] == "feed summary"
    passage = make_passage(entry.article, GONE_SUMMARY, 1, text_from=stored["text_from"])
    shown = passages_html([passage], "t")
    assert "text from the feed summary: the article&#x27;s page could not be fetched" in shown
    assert "could not be fetched" not in passages_html([make_passage("other", "Text.", 1)], "t")


def test_url_held_articles_survive_prune_and_verify(refresher, tmp_path: Path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "Budget\n" + "The council approved a new budget on Monday.", encoding="utf-8"
    )
    ingestor = refresher.ingestor
    web = Article(
        id="https://news.example.org/rain",
        title="Rain",
        text="Heavy rain closed schools in Pune on Tuesday. The river rose by two metres.",
        path="https://news.example.org/rain",
        language="en",
    )
    assert ingestor.ingest_articles([web]).added == 1
    assert ingestor.ingest([folder]).added == 1
    (folder / "a.txt").unlink()
    report = ingestor.ingest([folder], prune=True, verify=True)
    assert report.removed == 1 and report.verified is not None and report.verified.findings == []
    assert ingestor.manifest.content_of("https://news.example.org/rain") == web.content_hash
    assert ingestor.manifest.holders("https://news.example.org/rain") == ["https://news.example.org/rain"]
    again = ingestor.ingest_articles([web])
    assert (again.added, again.unchanged) == (0, 1)


def test_the_feeds_commands_and_ingesting_urls(site, cli, monkeypatch, tmp_path: Path):  # noqa: F811
    for name, value in {"TIMEOUT": "0.5", "RETRIES": "0", "BACKOFF": "0", "HOST_DELAY": "0"}.items():
        monkeypatch.setenv(f"KHABAR_FETCH_{name}", value)
    rss_url = site.url("/rss.xml")
    assert "No feeds followed" in cli("feeds", "list").output

    refused = cli("feeds", "add", site.url("/en/budget"))
    assert refused.exit_code == 2 and site.url("/en/budget") in refused.output
    added = cli("feeds", "add", rss_url, "--name", "Wire")
    assert added.exit_code == 0 and "Following Wire" in added.output

    refreshed = cli("feeds", "refresh")
    assert refreshed.exit_code == 1  # pages failed; the others were stored
    assert "4 new, 0 updated, 0 unchanged, 3 failed" in refreshed.output
    assert site.url("/gone") in refreshed.output and "robots.txt" in refreshed.output
    listed = cli("feeds", "list").output
    assert "Wire" in listed and rss_url in listed and "ok: 4 new" in listed

    again = cli("feeds", "refresh", "--every", "1s", "--max-runs", "2")
    assert (
        again.exit_code == 0 and again.output.count("feed(s): 0 new, 0 updated, 0 unchanged, 0 failed") == 2
    )
    assert cli("feeds", "refresh", "--every", "soon").exit_code == 2

    urls = tmp_path / "urls.txt"
    urls.write_text(
        f"# today\n{site.url('/en/cricket')}\n\n{site.url('/broken')}  # down\n", encoding="utf-8"
    )
    ingested = cli("ingest", site.url("/hi/monsoon"), "--urls", str(urls))
    assert ingested.exit_code == 1
    assert (
        "1 added" in ingested.output and site.url("/broken") in ingested.output
    )  # monsoon came from the feed

    assert cli("feeds", "remove", "Nope").exit_code == 2
    removed = cli("feeds", "remove", "Wire")
    assert removed.exit_code == 0 and "4 article(s) stay in the index" in removed.output
    assert "No feeds followed" in cli("feeds", "list").output


def test_another_process_sees_the_feeds_and_skips_what_was_fetched_in_either_mode(
    site, make_settings, chroma_mode
):
    """The feed state lives with the index (a SQLite file beside it, or a collection on the shared
    server): a second handle, as a second app process would open, sees the feeds and entries."""
    settings = make_settings(fetch_timeout=0.5, fetch_retries=0, fetch_host_delay=0.0, **chroma_mode)
    site.routes["/rss.xml"] = rss(site, rss_items(site)[:2])
    first = components.feed_refresher(settings)
    try:
        first.add(site.url("/rss.xml"))
        assert first.refresh().total("new") == 2
    finally:
        first.close()
    site.routes["/rss.xml"] = rss(site, rss_items(site)[:2] + rss_items(site)[2:3])  # a new ETag
    second = components.feed_refresher(settings)
    try:
        assert [f.name for f in second.store.list()] == ["Daily Wire"]
        report = second.refresh()
        assert (report.total("new"), report.total("unchanged")) == (1, 2)
        assert site.hits["/hi/monsoon"] == 1  # fetched by the first handle only
    finally:
        second.close()
