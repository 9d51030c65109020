"""The Chroma collection: idempotent document upserts, deletes, listing and stats.

Embedded (PersistentClient at ``store_dir``) by default, or a Chroma server when
``chroma_url`` is set. We always pass embeddings in: Chroma's default embedding function
would download a model. Beside the chunks, a second collection (``<name>-documents``) keeps
each document's whole clean text, which whole-collection answering reads as its prompt and
every citation offset points into; a store written before it existed reads a document back
from its chunks (``document_texts``); its record, written after the chunks, holds the content
hash that decides whether a file changed and the other paths the same text was seen at. The
collection's metadata records a schema version, the embedder and the chunking, so a store written
by another version or with other settings is refused with a clear error instead of returning
nonsense. ``copy_store`` moves a whole collection between an embedded store and a server.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from .chunking import Chunk
from .documents import Document
from .errors import StoreError

SCHEMA_VERSION = 1
_PAGE = 10_000  # records per get() when reading a whole collection
_WRITE_BATCH = 1000
_DOC_FIELDS = ("doc_id", "source", "filename", "title", "date", "language", "content_hash")


@dataclass(frozen=True)
class StoredDocument:
    """A whole stored document: its fields (``doc_id``, ``source``, ``filename``, ``title``, ``date``,
    ``language``, ``content_hash``, ``added``) and its clean text."""

    meta: dict[str, Any]
    text: str

    @property
    def doc_id(self) -> str:
        return str(self.meta["doc_id"])


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from the store, with its document's fields."""

    id: str
    text: str
    meta: dict[str, Any]


class ChunkStore:
    """One Chroma collection of chunks; documents are the groups sharing a ``doc_id``."""

    def __init__(self, *, path: Path | None = None, url: str = "", collection: str = "vjassistant",
                 embedder_name: str = "", dim: int = 0, chunking: str = "") -> None:
        """``chunking`` ("160/32": tokens per chunk and overlap) is recorded in a new store and must
        match an existing one's: chunks cut two ways would be mixed in one ranking."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if url:
                parsed = urlparse(url)
                self._client = chromadb.HttpClient(host=parsed.hostname or "localhost",
                                                   port=parsed.port or 8000,
                                                   ssl=parsed.scheme == "https",
                                                   settings=chroma_settings)
            else:
                assert path is not None
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            self._col = self._client.get_or_create_collection(
                name=collection, embedding_function=None,
                metadata={"hnsw:space": "cosine", "vja_schema": SCHEMA_VERSION,
                          "embedder": embedder_name, "dim": dim})
            self._docs = self._client.get_or_create_collection(name=documents_collection(collection),
                                                               embedding_function=None,
                                                               metadata={"hnsw:space": "cosine"})
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises many types; all mean "can't open"
            where = url or str(path)
            fix = ("check the Chroma server is running (chroma run --path DIR)" if url else
                   "check the folder is readable and writable; if its files are damaged, move it aside and "
                   "ingest your documents again, or point VJA_STORE_DIR elsewhere")
            raise StoreError(f"Cannot open the vector store at {where}: {exc}", fix, location=where) from exc
        self._name, self._dim = collection, dim
        self._check_compatible(embedder_name, dim, url or str(path))
        self._check_chunking(chunking, url or str(path))

    @property
    def revision(self) -> int:
        """A counter every write bumps, read fresh from the collection's metadata so that
        writes by another process (a CLI ingest while the UI runs) are seen too."""
        fresh = self._client.get_collection(self._name, embedding_function=None)
        return int((fresh.metadata or {}).get("vja_revision", 0))

    def _bump_revision(self) -> None:
        self._set_meta(lambda meta: {"vja_revision": int(meta.get("vja_revision", 0)) + 1})

    def _set_meta(self, changes: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Change keys of the collection's metadata (``changes`` of it as read fresh: another process
        may have written since this handle opened)."""
        fresh = self._client.get_collection(self._name, embedding_function=None)
        # Chroma refuses any hnsw:* key in modify(), even unchanged; the space stays cosine.
        meta = {k: v for k, v in (fresh.metadata or {}).items() if not k.startswith("hnsw:")}
        self._col.modify(metadata={**meta, **changes(meta)})

    def _check_compatible(self, embedder_name: str, dim: int, where: str) -> None:
        meta = self._col.metadata or {}
        schema = meta.get("vja_schema")
        if schema != SCHEMA_VERSION:
            raise StoreError(f"The store at {where} was written by another version of vjassistant "
                             f"(schema {schema!r}, this version reads {SCHEMA_VERSION})",
                             "re-ingest into a new folder (--store DIR) or delete the old store folder", location=where)
        if embedder_name and meta.get("embedder") not in ("", embedder_name):
            raise StoreError(f"The store at {where} was built with the embedder {meta.get('embedder')!r}, "
                             f"not {embedder_name!r}", "re-ingest the documents into a new store", location=where)

    def _check_chunking(self, chunking: str, where: str) -> None:
        meta = self._col.metadata or {}
        if not chunking or meta.get("chunking") == chunking:
            return
        if meta.get("chunking"):
            raise StoreError(f"The store at {where} was cut into chunks of {meta['chunking']} tokens (size/overlap), "
                             f"the settings say {chunking}",
                             "re-ingest into a new store (--store DIR), or set VJA_CHUNK_TOKENS and "
                             "VJA_CHUNK_OVERLAP back to the store's values", location=where)
        self._set_meta(lambda _: {"chunking": chunking})  # a store from before the chunking was recorded

    # --- writes -------------------------------------------------------------------
    def upsert_document(self, doc: Document, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
        """Make ``chunks`` the document's chunks: write the new ones first, then drop stale ids,
        so a failure half-way never leaves the document with no chunks at all. The document's
        record, with its content hash, is written last: a crash before it leaves the old hash (or
        none), so the next ingestion sees the file as changed and finishes the job."""
        old = set(self._col.get(where={"doc_id": doc.id}, include=[])["ids"])
        if chunks:
            base = {"doc_id": doc.id, "source": doc.source, "filename": doc.filename, "title": doc.title,
                    "date": doc.date, "language": doc.language, "content_hash": doc.content_hash}
            metas = [{**base, "chunk_index": c.index, "start": c.start, "end": c.end, "tokens": c.tokens}
                     for c in chunks]
            vectors = embeddings.astype(np.float32)
            for i in range(0, len(chunks), _WRITE_BATCH):  # Chroma refuses batches over its maximum (~5k)
                part = slice(i, i + _WRITE_BATCH)
                self._col.upsert(ids=[c.id for c in chunks[part]], documents=[c.text for c in chunks[part]],
                                 embeddings=vectors[part].tolist(), metadatas=metas[part])  # type: ignore[arg-type]
        stale = sorted(old - {c.id for c in chunks})
        for i in range(0, len(stale), _WRITE_BATCH):
            self._col.delete(ids=stale[i:i + _WRITE_BATCH])
        known = self._docs.get(ids=[doc.id], include=["metadatas"])
        before = dict(known["metadatas"][0] or {}) if known["ids"] and known["metadatas"] else {}
        meta = {k: getattr(doc, k.removeprefix("doc_")) for k in _DOC_FIELDS}
        meta["added"] = str(before.get("added") or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
        if before.get("paths"):
            meta["paths"] = before["paths"]
        vector = embeddings.mean(axis=0) if len(embeddings) else np.ones(self._dim or 1)
        vector = vector / (np.linalg.norm(vector) or 1.0)  # the document's direction: its chunks' mean
        self._docs.upsert(ids=[doc.id], documents=[doc.text], metadatas=[meta],
                          embeddings=[vector.astype(np.float32).tolist()])
        self._bump_revision()

    def find_document(self, *, source: str = "", content_hash: str = "", doc_id: str = "") -> dict[str, Any] | None:
        """The record of a stored document whose file is ``source``, whose text hashes to
        ``content_hash``, or whose id is ``doc_id``: its fields and ``paths``; None when there is none."""
        if doc_id:
            got = self._docs.get(ids=[doc_id], include=["metadatas"])
        else:
            where = {"source": source} if source else {"content_hash": content_hash}
            got = self._docs.get(where=where, limit=1, include=["metadatas"])  # type: ignore[arg-type]
        if not got["ids"] or not got["metadatas"]:
            return None
        meta = dict(got["metadatas"][0] or {})
        return meta | {"doc_id": got["ids"][0], "paths": _paths(meta)}

    def add_path(self, doc_id: str, path: str, *, moved: bool = False) -> None:
        """Record that ``doc_id``'s text is also at ``path``; ``moved``: the document now lives
        there (its file was renamed or moved), so its chunks point there too."""
        got = self._docs.get(ids=[doc_id], include=["metadatas"])
        meta = dict(got["metadatas"][0] or {}) if got["ids"] and got["metadatas"] else {}
        if not meta:
            return
        others = [p for p in _paths(meta)[1:] if p != path]
        if moved:
            meta["source"], meta["filename"] = path, Path(path).name
            chunks = self._col.get(where={"doc_id": doc_id}, include=["metadatas"])
            if chunks["ids"]:
                metas = [{**dict(m or {}), "source": path, "filename": Path(path).name}
                         for m in chunks["metadatas"] or []]
                self._col.update(ids=chunks["ids"], metadatas=metas)  # type: ignore[arg-type]
        elif path != meta.get("source"):
            others.append(path)
        meta["paths"] = "\n".join(others)
        self._docs.update(ids=[doc_id], metadatas=[meta])  # type: ignore[list-item]
        self._bump_revision()

    def delete_document(self, doc_id: str) -> int:
        ids = self._col.get(where={"doc_id": doc_id}, include=[])["ids"]
        whole = self._docs.get(ids=[doc_id], include=[])["ids"]
        if ids:
            self._col.delete(ids=ids)
        if whole:
            self._docs.delete(ids=whole)
        if ids or whole:
            self._bump_revision()
        return len(ids)

    # --- reads --------------------------------------------------------------------
    def document_text(self, doc_id: str) -> str:
        """A stored document's whole clean text, "" when it is not stored."""
        got = self._docs.get(ids=[doc_id], include=["documents"])
        if got["ids"] and got["documents"] and got["documents"][0]:
            return str(got["documents"][0])
        chunks = self._col.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        return _from_chunks(_stored(chunks["ids"], chunks["documents"], chunks["metadatas"]))

    def document_texts(self) -> list[StoredDocument]:
        """Every stored document with its whole text, in the order they were first added (a
        document added later comes last, so a prompt built from them in this order keeps its
        beginning when documents are added). Documents stored before whole texts were kept are
        read back from their chunks (whitespace between chunks becomes spaces)."""
        got = self._docs.get(include=["documents", "metadatas"])
        whole = {i: StoredDocument(dict(m or {}), t or "") for i, t, m in
                 zip(got["ids"], got["documents"] or [], got["metadatas"] or [])}
        missing = {d["doc_id"] for d in self.documents()} - set(whole)
        if missing:
            by_doc: dict[str, list[StoredChunk]] = {}
            for c in self.all_chunks():
                if c.meta.get("doc_id") in missing:
                    by_doc.setdefault(str(c.meta["doc_id"]), []).append(c)
            for doc_id, chunks in by_doc.items():
                meta = {k: chunks[0].meta.get(k, "") for k in _DOC_FIELDS} | {"added": ""}
                whole[doc_id] = StoredDocument(meta, _from_chunks(chunks))
        return sorted(whole.values(), key=lambda d: (str(d.meta.get("added", "")), str(d.meta.get("filename", "")),
                                                      d.doc_id))

    def count(self) -> int:
        return int(self._col.count())

    def _get_all(self, include: list[str]) -> dict[str, list[Any]]:
        """Every record, read in pages: Chroma (1.5.9) refuses a get() of 32,767 records or more
        with metadata at once ("too many SQL variables"), so big stores must be paged."""
        out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
        offset = 0
        while True:
            page = self._col.get(include=include, limit=_PAGE, offset=offset)  # type: ignore[arg-type]
            for key in out:
                out[key] += page[key] or []  # type: ignore[literal-required]
            offset += len(page["ids"])
            if len(page["ids"]) < _PAGE:
                return out

    def documents(self) -> list[dict[str, Any]]:
        """One row per document: its fields, the number of chunks, when it was first added (UTC,
        ISO) and ``paths``, every file it was seen at (its own first)."""
        rows: dict[str, dict[str, Any]] = {}
        for meta in self._get_all(["metadatas"])["metadatas"]:
            row = rows.setdefault(str(meta["doc_id"]), {k: meta.get(k, "") for k in _DOC_FIELDS} | {"chunks": 0})
            row["chunks"] += 1
        whole = self._docs.get(ids=list(rows), include=["metadatas"]) if rows else {"ids": [], "metadatas": []}
        for doc_id, meta in zip(whole["ids"], whole["metadatas"] or []):
            rows[doc_id]["added"] = str((meta or {}).get("added", ""))
            rows[doc_id]["paths"] = [rows[doc_id]["source"], *_paths(dict(meta or {}))[1:]]
        for row in rows.values():
            row.setdefault("paths", [row["source"]])
        return sorted(rows.values(), key=lambda r: (r["filename"], r["doc_id"]))

    def all_chunks(self) -> list[StoredChunk]:
        got = self._get_all(["documents", "metadatas"])
        return _stored(got["ids"], got["documents"], got["metadatas"])

    def query(self, embedding: np.ndarray, n: int) -> list[tuple[StoredChunk, float]]:
        """The ``n`` nearest chunks with their cosine similarity (1 - cosine distance).

        No count() first: Chroma returns what there is when ``n`` exceeds the collection, and
        counting costs ~6 ms per query at 100k chunks (benchmarks/retrieval.py)."""
        got = self._col.query(query_embeddings=[embedding.astype(np.float32).tolist()],
                              n_results=n, include=["documents", "metadatas", "distances"])
        chunks = _stored(got["ids"][0], got["documents"][0], got["metadatas"][0])
        return [(c, 1.0 - float(d)) for c, d in zip(chunks, got["distances"][0])]


def copy_store(source: ChunkStore, target: ChunkStore,
               progress: Callable[[int, int], None] | None = None) -> int:
    """Copy every chunk, with its vector, and every document record from ``source`` into
    ``target`` (an embedded store and a Chroma server, either way round); returns the chunks
    copied. ``target`` must be empty: a copy never mixes into a store that holds documents."""
    if target.count() or target._docs.count():
        raise StoreError(f"The target store already holds {target.count()} chunks",
                         "copy into an empty folder or a new --collection, or remove its documents first")
    total, done = source.count(), 0
    # Chunks first, records last, as ingestion writes them: a copy cut short leaves documents
    # without a record, which the next ingestion of their files completes.
    for src, dst in ((source._col, target._col), (source._docs, target._docs)):
        offset = 0
        while True:
            page = src.get(include=["documents", "metadatas", "embeddings"], limit=_WRITE_BATCH, offset=offset)
            if not page["ids"]:
                break
            dst.upsert(ids=page["ids"], documents=page["documents"], metadatas=page["metadatas"],
                       embeddings=page["embeddings"])
            offset += len(page["ids"])
            if dst is target._col:
                done = offset
                if progress is not None:
                    progress(done, total)
    target._bump_revision()
    return done


def _paths(meta: dict[str, Any]) -> list[str]:
    """A document record's files: its own, then the other paths its text was seen at."""
    return [str(meta.get("source", "")), *(p for p in str(meta.get("paths") or "").split("\n") if p)]


def documents_collection(collection: str) -> str:
    """The name of the collection that keeps whole documents beside ``collection``'s chunks."""
    return f"{collection}-documents"


def _from_chunks(chunks: Sequence[StoredChunk]) -> str:
    """A document's text rebuilt from its chunks, which are exact slices of it at their offsets;
    only the whitespace between chunks is unknown (a space stands in for each character)."""
    ordered = sorted(chunks, key=lambda c: int(c.meta.get("start", 0)))
    size = max((int(c.meta.get("end", 0)) for c in ordered), default=0)
    text = [" "] * size
    for c in ordered:
        start = int(c.meta.get("start", 0))
        text[start:start + len(c.text)] = c.text
    return "".join(text)


def _stored(ids: Sequence[str], texts: Sequence[str | None] | None,
            metas: Sequence[Any] | None) -> list[StoredChunk]:
    return [StoredChunk(i, t or "", dict(m or {})) for i, t, m in zip(ids, texts or [], metas or [])]
