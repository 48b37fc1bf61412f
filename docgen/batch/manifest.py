"""The run manifest: what a batch wrote, per document, as JSON next to its outputs.

``<output folder>/docgen-batch.json`` holds the last run's summary and, per output, its input key (the
sha256 of everything that determines the PDF), the PDF's sha256, its status and error.  The next run
skips a document whose key is unchanged and whose PDF is still there with the recorded sha256.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .._io import atomic_write

NAME = "docgen-batch.json"
SCHEMA = 1


def canonical(v: Any) -> str:
    return json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def sha256_file(p: Path) -> str | None:
    try:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def folder_hash(*folders: Path | None) -> str:
    """sha256 over every file (relative path and bytes) under the folders, in a stable order."""
    h = hashlib.sha256()
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for p in sorted(folder.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(folder)).encode() + b"\0")
                h.update(p.read_bytes())
                h.update(b"\0")
    return h.hexdigest()


def read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return {}
    return data


def write(path: Path, data: dict) -> None:
    data = {"schema": SCHEMA, **data}
    atomic_write(path, (json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n").encode("utf-8"))
