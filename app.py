"""Khabar's web face, for ``python app.py`` (``khabar serve`` starts the same chat).

The chat itself lives in ``khabar/web/``: ``ui.py`` lays it out, ``handlers.py`` answers its
events, ``serve.py`` launches it. This file stays so the app can be run as a plain script; it
listens where ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` say, as deployments expect, else at
``KHABAR_SERVE_HOST`` / ``KHABAR_SERVE_PORT`` (default 127.0.0.1:7860).
"""

from khabar.settings import get_settings
from khabar.web.serve import launch

if __name__ == "__main__":
    try:
        launch(get_settings())
    except ValueError as err:  # a bad port, or generated answers without a model: say which
        raise SystemExit(f"khabar: {err}") from None
