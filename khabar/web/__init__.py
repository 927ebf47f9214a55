"""Khabar's web face: a Gradio chat over the ingested collection, with cited, highlighted sources.

One job a module: ``backend`` (the state every session shares, and the one place the real
service and ingestor are built), ``handlers`` (what each event does, as plain methods),
``ui`` (the Blocks layout wiring components to the handlers), ``serve`` (where it listens and
the launch), and the pure helpers ``render``, ``notes`` (what the reader is told about who
wrote an answer and what checking it found), ``answerers`` (the answer toggle's choices),
``collection``, ``feedback`` and ``stream``.
The helpers and handlers live apart from the Gradio wiring so that the escaping rules, which
keep article text from ever becoming markup, and the chat's behaviour can be unit-tested
without starting a server or a browser.
"""

import os

# Before Gradio is imported (any module here may import it): the app must start and render
# with no network at all.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
