"""Where chunks and sentences live: Chroma, reached through one function so that the
embedded store can be swapped for a `chroma run` server by configuration."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import chromadb
from chromadb.api.collection_configuration import CreateCollectionConfiguration
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings
from filelock import FileLock, Timeout
from llama_index.vector_stores.chroma import ChromaVectorStore

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,50}[A-Za-z0-9]$")
SENTENCE_SUFFIX = "-sentences"
# The BM25 terms and the manifest, in http mode (index.side); absent in embedded mode.
LEXICAL_SUFFIX = "-lexical"
MANIFEST_SUFFIX = "-manifest"
FEEDS_SUFFIX = "-feeds"  # the followed feeds and their entries (index.feeds), in http mode


def validate_index_name(name: str) -> str:
    if not _NAME.match(name) or ".." in name:
        raise ValueError(
            f"Index name {name!r} is not usable: use 3-52 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit."
        )
    return name


@dataclass(frozen=True)
class ChromaConfig:
    """Which Chroma: embedded under ``path``, or a `chroma run` server at ``host``:``port``."""

    mode: Literal["embedded", "http"]
    path: Path
    host: str = "127.0.0.1"
    port: int = 8000


OPEN_LOCK = "open.lock"  # beside an embedded store: one process at a time sets it up
OPEN_TIMEOUT = 300  # seconds to wait for another process's open before saying so

_clients: dict[tuple[str, str, str, int], chromadb.ClientAPI] = {}
_clients_lock = threading.Lock()


def _make_client(mode: str, path: str, host: str, port: int) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if mode == "http":
        return chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
    Path(path).mkdir(parents=True, exist_ok=True)
    # Two processes opening a new store at once (two ingests, an ingest and `khabar serve`) both
    # run Chroma's schema set-up on its SQLite file, and the second fails ("table collections
    # already exists"): a file lock beside the store lets one process open it at a time. Opening
    # an existing store holds it for as long as Chroma's start takes.
    lock = FileLock(Path(path) / OPEN_LOCK)
    try:
        lock.acquire(timeout=OPEN_TIMEOUT)
    except Timeout:
        raise TimeoutError(
            f"The Chroma store in {path} is being opened by another process that did not finish "
            f"within {OPEN_TIMEOUT}s (its lock: {Path(path) / OPEN_LOCK}); run this again once it has."
        ) from None
    try:
        return chromadb.PersistentClient(path=path, settings=chroma_settings)
    finally:
        lock.release()


def _key(config: ChromaConfig) -> tuple[str, str, str, int]:
    return (config.mode, str(config.path), config.host, config.port)


def chroma_client(config: ChromaConfig) -> chromadb.ClientAPI:
    """The one place a Chroma client is made (one per process and configuration)."""
    key = _key(config)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = _make_client(*key)
        return _clients[key]


def reopen_client(config: ChromaConfig) -> chromadb.ClientAPI:
    """A new embedded client over ``config.path`` that sees what other processes wrote since.

    An embedded (``PersistentClient``) Chroma loads a collection's vectors into memory once per
    process: rows another process adds later are in its SQLite (ids, metadata, documents) but not
    in those vectors, so reading their embeddings fails ("Error finding id") and dense search
    misses them, until the process starts a new Chroma "system" for the path. chromadb shares one
    system per path among all clients of a process (``SharedSystemClient``): this forgets that
    one, without stopping it (collections opened from it keep working, with what they saw), so the
    next client starts a fresh one. A `chroma run` server needs none of this: it is returned as is.
    """
    key = _key(config)
    if config.mode != "embedded":
        return chroma_client(config)
    with _clients_lock:
        old = _clients.pop(key, None)
        identifier = getattr(old, "_identifier", None)
        with SharedSystemClient._refcount_lock:
            if identifier is not None:
                SharedSystemClient._identifier_to_system.pop(identifier, None)
                SharedSystemClient._identifier_to_refcount.pop(identifier, None)
        _clients[key] = _make_client(*key)
        return _clients[key]


@dataclass
class Stores:
    """The two collections of one index: chunks (retrieval) and their sentences (evidence)."""

    name: str
    chunks: ChromaVectorStore
    sentences: ChromaVectorStore

    @property
    def chunk_collection(self):
        return self.chunks.client

    @property
    def sentence_collection(self):
        return self.sentences.client


def open_stores(client: chromadb.ClientAPI, name: str, ef_search: int) -> Stores:
    name = validate_index_name(name)
    chunks = client.get_or_create_collection(
        name, configuration={"hnsw": {"space": "cosine", "ef_search": ef_search}}
    )
    if (chunks.configuration.get("hnsw") or {}).get("ef_search") != ef_search:
        chunks.modify(configuration={"hnsw": {"ef_search": ef_search}})  # mutable on existing collections
    # Sentences are read by article (a metadata filter), never searched by vector.
    cosine: CreateCollectionConfiguration = {"hnsw": {"space": "cosine"}}
    sentences = client.get_or_create_collection(name + SENTENCE_SUFFIX, configuration=cosine)
    return Stores(
        name, ChromaVectorStore(chroma_collection=chunks), ChromaVectorStore(chroma_collection=sentences)
    )


def stored_index_names(client: chromadb.ClientAPI) -> list[str]:
    """Names of the indexes this Chroma holds (in either mode): each has a chunk collection."""
    suffixes = (SENTENCE_SUFFIX, LEXICAL_SUFFIX, MANIFEST_SUFFIX, FEEDS_SUFFIX)
    return sorted(c.name for c in client.list_collections() if not c.name.endswith(suffixes))


def drop_collections(client: chromadb.ClientAPI, name: str) -> None:
    for suffix in ("", SENTENCE_SUFFIX, LEXICAL_SUFFIX, MANIFEST_SUFFIX, FEEDS_SUFFIX):
        collection = name + suffix
        try:
            client.delete_collection(collection)
        except Exception:  # chroma raises different types per version when it is absent
            pass
