"""Reading news files into ``Article`` records, one module per job.

- ``discovery``: the supported formats, and the files of those formats under given paths.
- ``source``: the file being read (decoding, errors, article fields) and its ``ReadResult``.
- ``titles``: a title for an article that came without one; datelines are not titles.
- ``dates``: publication dates in ISO 8601 when they read unambiguously.
- ``plain_text``: .txt and .md files, with Markdown front matter.
- ``html_pages``: .html and .htm pages, the article found among the page around it.
- ``json_records``: .json and .jsonl files, one article a record.
- ``feeds``: .xml, .rss and .atom feeds, one article an entry.
"""
