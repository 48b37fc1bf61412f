"""The run manifest: what a batch wrote, per document, as JSON next to its outputs.

``<output folder>/docgen-batch.json`` holds the last run's summary and, per output, its input key (the
sha256 of everything that determines the PDF), the PDF's sha256, its status and error.  The next run
skips a document whose key is unchanged and whose PDF is still there with the recorded sha256.

While a run goes on, each finished document is also appended as one JSON line to
``.docgen-batch.journal`` (cheap, no rewrite): a run that is killed loses no record of the PDFs it
wrote.  The next run folds the journal into the manifest; a torn last line is ignored.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .._io import atomic_write

NAME = "docgen-batch.json"
JOURNAL = ".docgen-batch.journal"
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


def read_journal(path: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return out
    for line in lines:
        try:
            entry = json.loads(line)
            out[entry.pop("output")] = entry
        except (ValueError, KeyError, AttributeError):
            continue                    # the line a killed run was writing
    return out


class Journal:
    """Append-only record of finished documents, one JSON line each."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(path, "a", encoding="utf-8")

    def add(self, output: str, entry: dict) -> None:
        self._f.write(json.dumps({"output": output, **entry}, ensure_ascii=False, default=str) + "\n")
        self._f.flush()                 # in the kernel's hands: survives the process being killed

    def close(self) -> None:
        self._f.close()
