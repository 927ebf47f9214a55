"""Reading news files into ``Article`` records, one module per job.

- ``discovery``: the supported formats, and the files of those formats under given paths.
- ``dispatch``: ``read_file``, the entry point: checks a file and hands it to its format's reader.
- ``source``: the file being read (decoding, errors, article fields) and its ``ReadResult``.
- ``plain_text``: .txt and .md files, with Markdown front matter.
- ``html_pages``: .html and .htm pages, the article found among the page around it.
- ``json_records``: .json and .jsonl files, one article a record.
- ``feeds``: .xml, .rss and .atom feeds, one article an entry.
- ``titles``: a title for an article that came without one; datelines are not titles.
- ``dates``: publication dates in ISO 8601 when they read unambiguously.

Nothing here reads the global settings: whether to detect an unstated language is an argument of
``read_file``, which the ingestion passes from its own settings.
"""
