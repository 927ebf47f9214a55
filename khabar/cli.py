"""``khabar``: one command line for ingest, ask, chat, eval and serve."""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from khabar import settings as settings_mod

app = typer.Typer(
    help="Khabar: ask questions of your news articles and get answers with cited passages.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def main(
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (env KHABAR_DATA_DIR).")] = None,
    index: Annotated[
        str | None, typer.Option(help="Index (collection) name (env KHABAR_INDEX_NAME).")
    ] = None,
    embed_model: Annotated[
        str | None, typer.Option(help="Embedding model: the bundled e5 or a sentence-transformers name.")
    ] = None,
    chroma_mode: Annotated[str | None, typer.Option(help="'embedded' or 'http'.")] = None,
    chroma_host: Annotated[str | None, typer.Option(help="Chroma server host in http mode.")] = None,
    chroma_port: Annotated[int | None, typer.Option(help="Chroma server port in http mode.")] = None,
) -> None:
    try:
        settings_mod.configure(
            data_dir=data_dir,
            index_name=index,
            embed_model=embed_model,
            chroma_mode=chroma_mode,
            chroma_host=chroma_host,
            chroma_port=chroma_port,
        )
    except Exception as err:  # pydantic validation errors name the setting and the problem
        err_console.print(f"[red]Invalid setting:[/red] {err}")
        raise typer.Exit(2) from err


# --- config -------------------------------------------------------------------------------
@app.command()
def config() -> None:
    """Show the settings in force and where each value came from."""
    table = Table(title="Khabar settings")
    for col in ("setting", "value", "from", "meaning"):
        table.add_column(col, overflow="fold")
    for name, value, origin, description in settings_mod.describe(settings_mod.get_settings()):
        table.add_row(name, str(value), origin, description)
    console.print(table)


# --- ingest -------------------------------------------------------------------------------
@app.command()
def ingest(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Files or folders (folders recurse), or http(s) URLs of articles; none with --verify."
        ),
    ] = None,
    urls: Annotated[
        Path | None,
        typer.Option("--urls", help="A file of article URLs to fetch, one a line ('#' starts a comment)."),
    ] = None,
    prune: Annotated[bool, typer.Option(help="Remove articles whose files are gone.")] = False,
    verify: Annotated[
        bool,
        typer.Option(
            help="First check the stored index and repair it: unreadable vectors, articles with missing "
            "chunks or sentences (stored again when their files are ingested), records no article holds."
        ),
    ] = False,
) -> None:
    """Read, chunk, embed and store articles; unchanged files cost nothing the second time."""
    from ingest.web.urls import is_web_url
    from khabar import components

    web = [p for p in paths or [] if is_web_url(p)]
    files = [Path(p) for p in paths or [] if not is_web_url(p)]
    if urls is not None:
        web += read_url_list(urls)
    if not files and not web and not verify:
        err_console.print(
            "[red]Give the files, folders or URLs to ingest[/red] (or --verify alone to check the index)."
        )
        raise typer.Exit(2)
    settings = settings_mod.get_settings()
    ok = True
    if files or verify:
        ok = run_ingest(components.ingestor(settings), files, prune, verify).ok
    if web:
        ok = run_fetch(components.feed_refresher(settings), web).ok and ok
    if not ok:
        raise typer.Exit(1)


def read_url_list(path: Path) -> list[str]:
    """The URLs of a ``--urls`` file: one a line, blank lines and '#' comments skipped."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        err_console.print(f"[red]Cannot read the URL list {shown(str(path))}:[/red] {shown(str(err))}")
        raise typer.Exit(2) from err
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def run_fetch(refresher, urls: list[str]):
    """Fetch the pages at ``urls`` and ingest them; the report lists each page that failed."""
    from index.lock import IndexBusy

    try:
        with err_console.status(f"Fetching {len(urls)} page(s)") as status:

            def update(message: str) -> None:
                status.update(escape(message))

            report = refresher.ingest_urls(urls, progress=update)
    except IndexBusy as err:
        err_console.print(f"[red]{escape(str(err))}[/red]")
        raise typer.Exit(1) from err
    finally:
        refresher.close()
    print_ingest_report(report)
    return report


def run_ingest(ingestor, paths: list[Path], prune: bool, verify: bool = False):
    from index.lock import IndexBusy

    columns = (
        TextColumn("[bold]Ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[articles]} articles · {task.fields[chunks]} chunks"),
        TextColumn("· {task.fields[rate]:.1f} chunks/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task("ingest", total=None, articles=0, chunks=0, rate=0.0)

        def update(state) -> None:
            if state.waiting:
                err_console.print(f"[yellow]{escape(state.waiting)}[/yellow]")
                return
            elapsed = bar.tasks[0].elapsed or 1e-9
            bar.update(
                task,
                total=state.total_files,
                completed=state.files_done,
                articles=state.articles,
                chunks=state.chunks,
                rate=state.chunks / elapsed,
            )

        try:
            report = ingestor.ingest(paths, prune=prune, progress=update, verify=verify)
        except IndexBusy as err:
            hint = "Set KHABAR_WRITE_LOCK_TIMEOUT to wait longer."
            err_console.print(f"[red]{escape(str(err))}[/red] [dim]{hint}[/dim]")
            raise typer.Exit(1) from err
        finally:
            ingestor.close()
    print_ingest_report(report)
    return report


def print_ingest_report(report) -> None:
    if report.verified is not None:
        print_verify_report(report.verified)
    summary = (
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.duplicates} duplicates stored once, {report.removed} removed; "
        f"{report.chunks} chunks, {report.sentences} sentences embedded in {report.seconds:.1f}s"
    )
    if report.chunks and report.seconds:
        summary += f" ({report.chunks / report.seconds:.1f} chunks/s)"
    console.print(summary)
    for f in report.files:
        for note in f.notes:
            console.print(f"  [dim]{shown(note)}[/dim]")
    problems = report.problems
    if problems:
        err_console.print(f"[yellow]{len(problems)} problem(s); everything else was ingested:[/yellow]")
        for p in problems:
            where = f"{p.path} ({p.record})" if p.record else p.path
            err_console.print(
                f"  [red]skipped[/red] {shown(where)}: {shown(p.reason)}. [dim]Fix: {shown(p.fix)}[/dim]"
            )


def shown(text: str) -> str:
    """The user's text (file names, record ids) for a report line: as written, never read as
    markup ("[/red]" in a file name would end the report with a MarkupError), and control
    characters escaped, so a newline or an escape sequence in a name cannot split or colour it."""
    return escape("".join(repr(c)[1:-1] if unicodedata.category(c) == "Cc" else c for c in text))


def print_verify_report(verified) -> None:
    if not verified.findings:
        console.print(f"Verified {verified.contents} stored article(s): nothing to repair.")
        return
    console.print(f"Verified {verified.contents} stored article(s); {len(verified.findings)} problem(s):")
    for finding in verified.findings:
        console.print(Text(f"  {finding.article}: {finding.problem} → {finding.repair}"))


# --- feeds --------------------------------------------------------------------------------
feeds_app = typer.Typer(
    help="Follow RSS and Atom feeds: their new articles are fetched and ingested on each refresh.",
    no_args_is_help=True,
)
app.add_typer(feeds_app, name="feeds")


def open_refresher():
    from khabar import components

    return components.feed_refresher(settings_mod.get_settings())


@feeds_app.command("add")
def feeds_add(
    url: Annotated[str, typer.Argument(help="The feed's URL (RSS 2.0 or Atom).")],
    name: Annotated[str | None, typer.Option(help="A name for it (default: the feed's title).")] = None,
) -> None:
    """Follow a feed (fetched once to check that it is one); `khabar feeds refresh` fetches its articles."""
    from ingest.web.fetch import FetchError
    from ingest.web.refresh import NotAFeed

    refresher = open_refresher()
    try:
        feed = refresher.add(url, name)
    except FetchError as err:
        err_console.print(f"[red]Cannot fetch {shown(err.url)}:[/red] {shown(err.reason)}")
        raise typer.Exit(1) from err
    except NotAFeed as err:
        err_console.print(f"[red]Not added:[/red] {shown(str(err))}")
        raise typer.Exit(2) from err
    finally:
        refresher.close()
    console.print(
        f"Following {shown(feed.name)} ({shown(feed.url)}). `khabar feeds refresh` fetches its articles."
    )


@feeds_app.command("list")
def feeds_list() -> None:
    """The feeds followed: name, URL, last checked, what that found, articles brought in."""
    refresher = open_refresher()
    try:
        feeds = [(feed, refresher.articles(feed)) for feed in refresher.store.list()]
    finally:
        refresher.close()
    if not feeds:
        console.print("No feeds followed. Add one with `khabar feeds add URL`.")
        return
    table = Table(title="Feeds followed")
    for col in ("name", "url", "last checked", "status", "articles"):
        table.add_column(col, overflow="fold")
    for feed, articles in feeds:
        table.add_row(
            shown(feed.name),
            shown(feed.url),
            feed.last_checked or "never",
            shown(feed.last_status),
            str(articles),
        )
    console.print(table)


@feeds_app.command("remove")
def feeds_remove(
    feed: Annotated[str, typer.Argument(help="The feed's URL or name.")],
) -> None:
    """Stop following a feed; the articles it brought stay in the index."""
    refresher = open_refresher()
    try:
        found = refresher.find(feed)
        if found is None:
            err_console.print(
                f"[red]No followed feed has the URL or name {shown(feed)!r}[/red] (see `khabar feeds list`)."
            )
            raise typer.Exit(2)
        articles = refresher.articles(found)
        refresher.remove(found)
    finally:
        refresher.close()
    console.print(
        f"Stopped following {shown(found.name)} ({shown(found.url)}); "
        f"its {articles} article(s) stay in the index."
    )


@feeds_app.command("refresh")
def feeds_refresh(
    every: Annotated[
        str | None, typer.Option(help="Refresh again every interval (90s, 15m, 1h) until Ctrl-C.")
    ] = None,
    max_runs: Annotated[
        int | None, typer.Option(min=1, help="With --every: stop after this many refreshes.")
    ] = None,
) -> None:
    """Fetch the followed feeds' new and updated articles and ingest them. Exit status: 0 when
    everything was fetched, 1 when a feed or page failed (the others are still stored), 2 for a
    usage error: a cron job can tell."""
    import threading

    from index.lock import IndexBusy
    from khabar.schedule import parse_interval, run_every

    try:
        interval = parse_interval(every) if every is not None else None
    except ValueError as err:
        err_console.print(f"[red]{escape(str(err))}[/red]")
        raise typer.Exit(2) from err
    refresher = open_refresher()
    last: list = []

    def once() -> None:
        with err_console.status("Refreshing feeds") as status:
            report = refresher.refresh(progress=lambda message: status.update(escape(message)))
        print_refresh_report(report)
        last[:] = [report]

    try:
        if interval is None:
            once()
        else:
            console.print(f"Refreshing every {escape(every or '')}; Ctrl-C stops.")
            run_every(interval, once, threading.Event(), max_runs)
    except KeyboardInterrupt:
        err_console.print("Stopped.")
    except IndexBusy as err:
        err_console.print(f"[red]{escape(str(err))}[/red]")
        raise typer.Exit(1) from err
    finally:
        refresher.close()
    if last and not last[0].ok:
        raise typer.Exit(1)


def print_refresh_report(report) -> None:
    if not report.feeds:
        console.print("No feeds followed. Add one with `khabar feeds add URL`.")
        return
    for feed in report.feeds:
        line = f"  {shown(feed.name)}: {feed.new} new, {feed.updated} updated, {feed.unchanged} unchanged"
        if feed.failed:
            line += f", [red]{feed.failed} failed[/red]"
        if feed.from_summary:
            line += f" ({feed.from_summary} from the feed's summary: the page failed)"
        if feed.status and not feed.status.startswith("failed"):
            line += f" [dim]· feed {shown(feed.status)}[/dim]"
        console.print(line)
    console.print(f"{report.finished}: {report.summary()}")
    for failure in report.failures:
        err_console.print(f"  [red]failed[/red] {shown(failure.url)}: {shown(failure.reason)}")


# --- ask ----------------------------------------------------------------------------------
FilterLang = Annotated[
    list[str] | None, typer.Option("--lang", help="Only articles in this language (repeat).")
]
FilterSource = Annotated[list[str] | None, typer.Option("--source", help="Only this source (repeat).")]
FilterFrom = Annotated[str | None, typer.Option("--from", help="Published on or after YYYY-MM-DD.")]
FilterTo = Annotated[str | None, typer.Option("--to", help="Published on or before YYYY-MM-DD.")]
NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Answer as if asked at this date (YYYY-MM-DD) or ISO date and time: what 'this week' or "
        "'latest' mean, and no article dated after it (default: the current time).",
    ),
]


def make_now(now: str | None):
    """``--now`` read, or a usage error; None stays None (the current time, per question)."""
    from rag.timeframe import parse_now

    if now is None:
        return None
    try:
        return parse_now(now)
    except ValueError as err:
        err_console.print(f"[red]{escape(str(err))}[/red]")
        raise typer.Exit(2) from err


def make_filters(lang, source, date_from, date_to):
    """The filter options, checked: a malformed date is a usage error, not a silently ignored filter."""
    from index.records import SearchFilters

    try:
        return SearchFilters.parse(lang, source, date_from, date_to)
    except ValueError as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from err


AnswererOption = Annotated[
    str | None,
    typer.Option(
        "--answerer",
        help="'extractive' (quoted sentences) or 'generated' (the connected language model, verified; "
        "env KHABAR_ANSWERER).",
    ),
]


def open_service(answerer: str | None = None):
    from khabar import components

    if answerer is not None and answerer not in ("extractive", "generated"):
        err_console.print(
            f"[red]--answerer must be 'extractive' or 'generated', not {escape(answerer)!r}[/red]"
        )
        raise typer.Exit(2)
    try:
        settings = settings_mod.configure(answerer=answerer)
        service = components.service(settings)
    except components.LLMNotConfigured as err:
        err_console.print(f"[red]{escape(str(err))}[/red]")
        raise typer.Exit(2) from err
    if service.is_empty():
        err_console.print(
            "[yellow]The index is empty.[/yellow] Add articles first, e.g. `khabar ingest corpus/`."
        )
    return service


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in any language.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a stable JSON document.")] = False,
    top_k: Annotated[int | None, typer.Option(help="Passages to retrieve.")] = None,
    lang: FilterLang = None,
    source: FilterSource = None,
    date_from: FilterFrom = None,
    date_to: FilterTo = None,
    answerer: AnswererOption = None,
    now: NowOption = None,
) -> None:
    """Answer one question with cited sentences (quoted, or written by a connected model and verified)."""
    from index.text import is_blank

    if is_blank(question):  # said before the model loads; service.ask would refuse it too
        err_console.print("The question is empty.")
        raise typer.Exit(2)
    if top_k:
        settings_mod.configure(top_k=top_k)
    filters = make_filters(lang, source, date_from, date_to)
    moment = make_now(now)
    service = open_service(answerer)
    answer = answer_streaming(service, question, filters, (), live=not as_json, now=moment)
    if as_json:
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        print_answer(answer)


def answer_streaming(service, question: str, filters, history, live: bool, now=None):
    """The answer, with a generated one's text shown as the model writes it (``live``); the
    verified answer follows in full. Quoted answers are ready at once and are not echoed."""
    generated = service.answerer is service.alternatives.get("generated")
    answer = None
    streamed = False
    for event in service.ask_stream(question, filters, history, now=now):
        if isinstance(event, str):
            if live and generated and event:
                console.print(Text(event, style="dim"), end="")
                streamed = True
        else:
            answer = event
    if streamed:
        console.print()
    return answer


def print_verification(answer) -> list[str]:
    """Print what checking a generated answer found before it (why it was not shown); return
    the notes that belong after it (its label, the sentences left out)."""
    from khabar.answer_notes import answer_notes

    before, after = answer_notes(answer)
    for note in before:
        console.print(Text(note, style="yellow"))
    return after


def print_answer(answer) -> None:
    from index.records import shown_date
    from khabar.answer_notes import text_from_label, time_notes

    after = print_verification(answer)
    for note in time_notes(answer):
        console.print(Text(note, style="dim" if note.startswith("Time frame") else "yellow"))
    if answer.declined:
        console.print(Panel(Text(answer.text), title="No answer", border_style="yellow"))
        console.print(f"[dim]({answer.reason})[/dim]")
        if answer.passages:
            console.print("[bold]Closest passages looked at:[/bold]")
            for p in answer.passages[:3]:
                console.print(Text(f"  · {p.title or p.article_id}: {p.text[:160]}…"))
        return
    from khabar.answer_notes import dated_source

    timeline = answer.kind == "timeline"
    console.print(Panel(Text(answer.text), title="Timeline" if timeline else "Answer", border_style="green"))
    if timeline and answer.answerer == "generated":  # the summary's sources, dated, newest first
        for c in answer.citations:
            console.print(Text(f"  {dated_source(c)}"))
    for note in after:
        console.print(Text(note, style="yellow" if "left out" in note else "dim"))
    console.print("[bold]Sources[/bold]")
    by_passage: dict[str, list] = {}
    for c in answer.citations:  # one panel per passage, every sentence cited from it marked
        by_passage.setdefault(c.chunk_id, []).append(c)
    for cites in by_passage.values():
        c = cites[0]
        markers = "".join(f"[{x.marker}]" for x in cites)
        head = " — ".join(x for x in (c.title or c.article_id, c.source, shown_date(c.published)) if x)
        console.print(Text(f"{markers} {head} ({c.language or '?'}) · {c.article_id}", style="bold"))
        if c.text_from:
            console.print(Text(f"  ({text_from_label(c.text_from)})", style="dim"))
        body = Text(c.passage)
        for x in cites:
            body.stylize("bold black on yellow", *x.highlight)
        console.print(Panel(body, border_style="dim"))
        for x in cites:
            if x.matches:
                shared = " · ".join(f"{asked} ↔ {written}" for asked, written in x.matches)
                console.print(Text(f"  [{x.marker}] matches the question: {shared}", style="dim"))


# --- chat ---------------------------------------------------------------------------------
@app.command()
def chat(
    lang: FilterLang = None,
    source: FilterSource = None,
    date_from: FilterFrom = None,
    date_to: FilterTo = None,
    answerer: AnswererOption = None,
    now: NowOption = None,
) -> None:
    """Ask questions one after another in the terminal (empty line or Ctrl-D to quit); a
    follow-up continues the conversation."""
    from rag.query import EmptyQuestion

    filters = make_filters(lang, source, date_from, date_to)
    moment = make_now(now)
    service = open_service(answerer)
    history: list[str] = []
    while True:
        try:
            question = console.input("[bold cyan]?[/bold cyan] ")
        except (EOFError, KeyboardInterrupt):
            break
        if not question.strip():
            break
        try:
            answer = answer_streaming(service, question, filters, history, live=True, now=moment)
        except EmptyQuestion as err:  # only zero-width characters: say so, and wait for the next
            err_console.print(str(err))
            continue
        history.append(question)
        print_answer(answer)


# --- serve --------------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to listen on (default: GRADIO_SERVER_NAME, else KHABAR_SERVE_HOST)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="Port to listen on (default: GRADIO_SERVER_PORT, else KHABAR_SERVE_PORT)."
        ),
    ] = None,
    ingest_path: Annotated[
        list[Path] | None, typer.Option("--ingest", help="Ingest these files/folders before serving.")
    ] = None,
    refresh_every: Annotated[
        str | None,
        typer.Option(help="Refresh the followed feeds this often while serving (e.g. 15m)."),
    ] = None,
    uploads: Annotated[
        bool | None,
        typer.Option(
            "--uploads/--no-uploads",
            help="Offer the upload tab (default: KHABAR_WEB_UPLOADS); --no-uploads on a reader host.",
        ),
    ] = None,
) -> None:
    """Start the web chat."""
    from khabar.schedule import parse_interval
    from khabar.web.serve import launch, server_address

    if uploads is not None:
        settings_mod.configure(web_uploads=uploads)
    settings = settings_mod.get_settings()
    try:
        every = parse_interval(refresh_every) if refresh_every else None
        host, port = server_address(settings, host, port)
        from khabar.components import check_answerer

        check_answerer(settings)  # before an --ingest run, not after it
    except ValueError as err:
        err_console.print(f"[red]{escape(str(err))}[/red]")
        raise typer.Exit(2) from err
    if ingest_path:
        from khabar import components

        run_ingest(components.ingestor(settings), ingest_path, prune=False)
    launch(settings, host=host, port=port, refresh_every=every)


# --- eval ---------------------------------------------------------------------------------
def _register_eval() -> None:
    """`khabar eval` is defined beside the evaluation harness (khabar/eval/cli.py); only registered here."""
    from khabar.eval.cli import eval_command

    app.command("eval")(eval_command)


_register_eval()


if __name__ == "__main__":  # pragma: no cover
    app()
