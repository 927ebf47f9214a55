"""Helpers for the web chat (``app.py``): pure rendering, filters, facets and feedback.

They live apart from the Gradio wiring so that the escaping rules, which keep article text
from ever becoming markup, can be unit-tested without starting a server.
"""
