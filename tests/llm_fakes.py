"""Scripted language models for the generated-answer tests: llama-index's ``CustomLLM`` with
replies written in advance, and a local OpenAI-compatible HTTP server that misbehaves on request."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from llama_index.core.llms import (
    CompletionResponse,
    CompletionResponseGen,
    CustomLLM,
    LLMMetadata,
)
from llama_index.core.llms.callbacks import llm_completion_callback
from pydantic import PrivateAttr


class ScriptedLLM(CustomLLM):
    """Replies in order (the last one repeats); a reply is text, streamed a few characters at a
    time, or an exception raised after ``fail_after`` characters. Prompts are recorded."""

    piece_chars: int = 6
    delay: float = 0.0  # seconds before each piece
    fail_after: int = 0

    _replies: list[Any] = PrivateAttr(default_factory=list)
    _prompts: list[str] = PrivateAttr(default_factory=list)

    def __init__(self, *replies: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self._replies = list(replies)

    @property
    def prompts(self) -> list[str]:
        return self._prompts

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="scripted", is_chat_model=False)

    def _next(self, prompt: str) -> Any:
        self._prompts.append(prompt)
        return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        reply = self._next(prompt)
        if isinstance(reply, BaseException):
            raise reply
        return CompletionResponse(text=reply)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        reply = self._next(prompt)

        def pieces() -> Iterator[CompletionResponse]:
            if isinstance(reply, BaseException):
                raise reply
            text = ""
            if not reply:  # an empty answer is still one (empty) response
                yield CompletionResponse(text="", delta="")
            for i in range(0, len(reply), self.piece_chars):
                if self.delay:
                    time.sleep(self.delay)
                piece = reply[i : i + self.piece_chars]
                text += piece
                yield CompletionResponse(text=text, delta=piece)

        return pieces()


def sse_chunks(text: str, piece_chars: int = 8) -> list[bytes]:
    """An OpenAI chat-completions stream of ``text`` as server-sent events."""
    events = []
    for i in range(0, len(text), piece_chars):
        delta = (
            {"role": "assistant", "content": text[i : i + piece_chars]}
            if i == 0
            else {"content": text[i : i + piece_chars]}
        )
        events.append(_event(delta, None))
    events.append(_event({}, "stop"))
    return events


def _event(delta: dict[str, Any], finish: str | None) -> bytes:
    chunk = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(chunk)}\n\n".encode()


class ChatServer:
    """An OpenAI-compatible ``/v1/chat/completions`` on 127.0.0.1 whose behaviour each test sets:
    ``reply(text)`` streams text; ``status(code)`` answers an HTTP error; ``hang(seconds)`` says
    nothing for that long; ``cut(text)`` sends part of a stream and closes the connection."""

    def __init__(self) -> None:
        self.behaviour: Callable[[BaseHTTPRequestHandler], None] = lambda h: None
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                server.behaviour(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # behaviours ---------------------------------------------------------------------------
    def reply(self, text: str) -> None:
        def behave(h: BaseHTTPRequestHandler) -> None:
            _stream_head(h)
            for event in sse_chunks(text):
                _send_chunk(h, event)
            _send_chunk(h, b"data: [DONE]\n\n")
            h.wfile.write(b"0\r\n\r\n")

        self.behaviour = behave

    def status(self, code: int, message: str = "busy") -> None:
        def behave(h: BaseHTTPRequestHandler) -> None:
            body = json.dumps({"error": {"message": message, "type": "server_error"}}).encode()
            h.send_response(code)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.send_header("Retry-After", "0")
            h.end_headers()
            h.wfile.write(body)

        self.behaviour = behave

    def hang(self, seconds: float) -> None:
        def behave(h: BaseHTTPRequestHandler) -> None:
            time.sleep(seconds)
            h.close_connection = True

        self.behaviour = behave

    def cut(self, text: str, after_events: int = 2) -> None:
        def behave(h: BaseHTTPRequestHandler) -> None:
            _stream_head(h)
            for event in sse_chunks(text)[:after_events]:
                _send_chunk(h, event)
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(2)  # closed mid-stream: no last chunk, no [DONE]

        self.behaviour = behave


def _stream_head(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/event-stream")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()


def _send_chunk(h: BaseHTTPRequestHandler, data: bytes) -> None:
    h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    h.wfile.flush()
