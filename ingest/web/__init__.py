"""Articles from the web: fetching pages politely (``fetch``), a fetched page as an article
(``pages``), and following RSS and Atom feeds (``refresh``).

Apart from ``ingest.sources`` because a URL is not a file: it is fetched, may fail in ways a file
does not (timeouts, server errors, robots.txt), and its articles are held by their URL, not a path.
"""
