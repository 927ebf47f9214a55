"""Khabar's web face, for ``python app.py`` (``khabar serve`` starts the same chat).

The chat itself lives in ``khabar/web/``: ``ui.py`` lays it out, ``handlers.py`` answers its
events, ``serve.py`` launches it. This file stays so the app can be run as a plain script.
"""

from khabar.settings import get_settings
from khabar.web.serve import launch

if __name__ == "__main__":
    launch(get_settings())
