"""Persistent, content-addressed cache of generated region images: (backend identity, request) in, PNG out.

A 20 B-parameter model takes minutes per picture, so a picture is generated once per machine and then
read back.  The key is the sha256 of the canonical JSON of everything that determines the pixels: the
backend's :meth:`identity` (model, weights revision, dtype, scheduler, steps, CFG, LoRA, library versions)
and the request's :meth:`key_fields`.  Each entry is two files in a two-level fan-out folder::

    <root>/ab/abcdef….png    the picture
    <root>/ab/abcdef….json   RegionImage fields minus the PNG, plus the PNG's sha256

Writes are atomic (temporary file + ``os.replace``, the sidecar last, so a reader never sees half an
entry); a corrupted or half-deleted entry reads as a miss and is regenerated.  A per-key ``flock`` lock
makes a second process that wants the same picture wait for the first and then read its result instead
of generating it again.  The total size is capped; the least recently *used* entries go first (a hit
touches the sidecar's mtime).

A backend with ``raw_size``/``fit`` (Qwen-Image) is cached by its raw picture: the key holds the
generation size, not the frame's pixels, so a second edition or another frame of the same picture is a
hit, cropped to its frame after the read.  A picture that is no picture (NaN, one flat colour) never
gets here: the backend that knows how its model fails refuses it (see the Qwen-Image backend).
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Sequence

from docgen._io import atomic_write, locked
from docgen.regions.base import RegionBackend, RegionImage, RegionRequest, canonical_json

SCHEMA = 1      # bump when the entry layout changes; part of every key


@dataclass(frozen=True)
class CacheInfo:
    path: str
    entries: int
    bytes: int
    max_bytes: int


def raw_request(backend: RegionBackend, request: RegionRequest) -> RegionRequest:
    """The request for the backend's raw picture: the frame's pixels replaced by the generation size."""
    raw_size = getattr(backend, "raw_size", None)
    if raw_size is None:
        return request
    width, height = raw_size(request)
    return dataclasses.replace(request, width=width, height=height)


def fit_to_request(backend: RegionBackend, image: RegionImage, request: RegionRequest) -> RegionImage:
    """A raw picture fitted to the request's frame (unchanged for a backend without ``fit``)."""
    fit = getattr(backend, "fit", None)
    return image if fit is None else fit(image, request)


def cache_key(identity: dict, request: RegionRequest) -> str:
    """sha256 hex of what determines the pixels: the backend's identity and the request's key fields."""
    payload = {"schema": SCHEMA, "backend": identity, "request": request.key_fields()}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


class RegionCache:
    """Images on disk under ``root``, at most ``max_bytes`` in all (LRU eviction)."""

    def __init__(self, root: str | os.PathLike | None = None, max_bytes: int = 5 * 1024**3):
        if root is None:
            from .config import default_cache_dir
            root = os.environ.get("DOCGEN_CACHE_DIR") or default_cache_dir()
        self.root = Path(root).expanduser()
        self.max_bytes = int(max_bytes)
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_config(cls, config) -> "RegionCache":
        return cls(config.cache_dir, config.cache_max_bytes)

    # -- paths -----------------------------------------------------------------------------------
    def _png(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.png"

    def _meta(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def _lockfile(self, key: str) -> Path:
        return self.root / "locks" / f"{key}.lock"

    # -- entries ---------------------------------------------------------------------------------
    def get(self, key: str) -> RegionImage | None:
        """The cached image, or None for a miss (absent, half-written or corrupted: all read as a miss)."""
        try:
            meta = json.loads(self._meta(key).read_text("utf-8"))
            png = self._png(key).read_bytes()
        except (OSError, ValueError):
            return None
        if meta.get("schema") != SCHEMA or hashlib.sha256(png).hexdigest() != meta.get("png_sha256"):
            return None
        with contextlib.suppress(OSError):
            os.utime(self._meta(key))            # mark as recently used (LRU)
        fields = meta["image"]
        return RegionImage(png=png, width=fields["width"], height=fields["height"], backend=fields["backend"],
                           info=fields.get("info", {}), overlay_text=fields.get("overlay_text", {}),
                           placeholder=fields.get("placeholder", False))

    def put(self, key: str, image: RegionImage) -> None:
        fields = asdict(image)
        del fields["png"]
        meta = {"schema": SCHEMA, "key": key, "png_sha256": hashlib.sha256(image.png).hexdigest(),
                "image": fields}
        folder = self._png(key).parent
        folder.mkdir(parents=True, exist_ok=True)
        # PNG first, sidecar last: an entry counts only once its sidecar (with the PNG's hash) is there.
        atomic_write(self._png(key), image.png)
        atomic_write(self._meta(key), canonical_json(meta).encode("utf-8"))
        self.evict()

    def remove(self, key: str) -> None:
        for path in (self._meta(key), self._png(key)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Exclusive per-key lock across processes (filelock; released if the holder dies)."""
        with locked(self._lockfile(key)):
            yield

    # -- the one call the render pipeline makes ----------------------------------------------------
    def get_or_generate(self, backend: RegionBackend, requests: Sequence[RegionRequest],
                        identity: dict | None = None) -> list[RegionImage]:
        """One image per request, in order, fitted to its frame: hits read back, misses generated in one
        backend call (a raw picture wanted by several frames is generated once)."""
        raws = self.get_or_generate_raw(backend, requests, identity)
        return [fit_to_request(backend, image, r) for image, r in zip(raws, requests)]

    def get_or_generate_raw(self, backend: RegionBackend, requests: Sequence[RegionRequest],
                            identity: dict | None = None) -> list[RegionImage]:
        """One raw image per request (at the backend's ``raw_size``), in order.

        Misses are generated under their keys' locks (taken in sorted order, so two processes with
        overlapping batches cannot deadlock); after taking them the cache is read again, because another
        process may have generated the picture while this one waited.
        """
        identity = backend.identity() if identity is None else identity
        raws = [raw_request(backend, r) for r in requests]
        keys = [cache_key(identity, r) for r in raws]
        out: list[RegionImage | None] = [self.get(k) for k in keys]
        missing = sorted({k for k, img in zip(keys, out) if img is None})
        self.hits += sum(img is not None for img in out)
        if not missing:
            return out  # type: ignore[return-value]
        with contextlib.ExitStack() as stack:
            for key in missing:
                stack.enter_context(self.lock(key))
            todo: dict[str, RegionRequest] = {}
            for i, key in enumerate(keys):
                if out[i] is None:
                    out[i] = self.get(key)          # another process may have made it meanwhile
                    if out[i] is None:
                        todo.setdefault(key, raws[i])
            if todo:
                self.misses += len(todo)
                images = backend.generate(list(todo.values()))
                made = dict(zip(todo, images))
                for key, image in made.items():
                    self.put(key, image)
                for i, key in enumerate(keys):
                    if out[i] is None:
                        out[i] = made[key]
        return out  # type: ignore[return-value]

    # -- housekeeping ----------------------------------------------------------------------------
    def _entries(self) -> list[tuple[float, int, str]]:
        """(last use, bytes, key) of every complete entry."""
        entries = []
        if not self.root.is_dir():
            return entries
        for meta in self.root.glob("??/*.json"):
            key = meta.stem
            try:
                used = meta.stat().st_mtime
                size = meta.stat().st_size + self._png(key).stat().st_size
            except OSError:
                continue
            entries.append((used, size, key))
        return entries

    def evict(self) -> int:
        """Drop least recently used entries until the total fits ``max_bytes``; returns how many went."""
        entries = sorted(self._entries())
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, key in entries:
            if total <= self.max_bytes:
                break
            self.remove(key)
            total -= size
            removed += 1
        return removed

    def info(self) -> CacheInfo:
        entries = self._entries()
        return CacheInfo(path=str(self.root), entries=len(entries), bytes=sum(s for _, s, _ in entries),
                         max_bytes=self.max_bytes)

    def clear(self) -> int:
        """Remove every entry (and stale lock files); returns the number of entries removed."""
        count = len(self._entries())
        if self.root.is_dir():
            for child in self.root.iterdir():
                if child.is_dir() and (re.fullmatch(r"[0-9a-f]{2}", child.name) or child.name in ("locks", "tmp")):
                    shutil.rmtree(child, ignore_errors=True)
        return count


