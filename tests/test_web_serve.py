"""Where the web chat listens: explicit host/port, then Gradio's own variables, then the settings."""

from __future__ import annotations

import pytest

from khabar.settings import Settings
from khabar.web.serve import server_address


@pytest.fixture
def no_env_files(monkeypatch, tmp_path):
    """Settings read only what a test sets: no .env, no KHABAR_SERVE_* from the caller."""
    monkeypatch.chdir(tmp_path)
    for name in ("KHABAR_SERVE_HOST", "KHABAR_SERVE_PORT"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_localhost_7860(no_env_files):
    assert server_address(Settings(), environ={}) == ("127.0.0.1", 7860)


def test_khabar_serve_variables_are_settings(no_env_files, monkeypatch):
    monkeypatch.setenv("KHABAR_SERVE_HOST", "0.0.0.0")
    monkeypatch.setenv("KHABAR_SERVE_PORT", "8080")
    assert server_address(Settings(), environ={}) == ("0.0.0.0", 8080)
    monkeypatch.setenv("KHABAR_SERVE_PORT", "70000")
    with pytest.raises(ValueError, match="serve_port"):
        Settings()


def test_gradio_variables_win_over_the_settings():
    settings = Settings(serve_host="10.0.0.1", serve_port=8080)
    env = {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7861"}
    assert server_address(settings, environ=env) == ("0.0.0.0", 7861)
    # Each variable on its own; an empty one counts as unset.
    assert server_address(settings, environ={"GRADIO_SERVER_PORT": "7861"}) == ("10.0.0.1", 7861)
    assert server_address(settings, environ={"GRADIO_SERVER_NAME": "", "GRADIO_SERVER_PORT": " "}) == (
        "10.0.0.1",
        8080,
    )


def test_explicit_host_and_port_win_over_everything():
    settings = Settings(serve_host="10.0.0.1", serve_port=8080)
    env = {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7861"}
    assert server_address(settings, "127.0.0.2", 9000, environ=env) == ("127.0.0.2", 9000)
    assert server_address(settings, port=9000, environ=env) == ("0.0.0.0", 9000)


@pytest.mark.parametrize("raw", ["http", "0", "65536", "-1"])
def test_a_bad_gradio_port_is_refused_by_name(raw):
    with pytest.raises(ValueError, match="GRADIO_SERVER_PORT"):
        server_address(Settings(), environ={"GRADIO_SERVER_PORT": raw})


def test_the_process_environment_is_read_by_default(monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    assert server_address(Settings()) == ("0.0.0.0", 7999)
