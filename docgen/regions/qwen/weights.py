"""Where the Qwen-Image weights are: a configured location in, a checked local folder (and revision) out.

Weights are only ever read from a local folder or the local Hugging Face cache (``local_files_only``);
nothing is downloaded.  Also here: the fingerprint of a weights folder and the sha256 of a LoRA file
(both part of the backend identity, so of every cache key), and the check that a folder holds a
``QwenImagePipeline``.  No torch: these are file checks, so ``auto`` pays for nothing on a machine
without weights.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

from docgen.errors import ModelError
from docgen.regions.config import ModelConfig

log = logging.getLogger(__name__)

DOWNLOAD_HINT = ("huggingface-cli download Qwen/Qwen-Image   "
                 "(or: hf download Qwen/Qwen-Image --local-dir /path/to/Qwen-Image)")

_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def _looks_like_path(location: str) -> bool:
    """A repo id is ``owner/name`` that is not also an existing path; anything else is a folder."""
    return _REPO_ID.fullmatch(location) is None or Path(location).expanduser().exists()


def _hf_cache_dir() -> str:
    try:
        from huggingface_hub import constants
        return str(constants.HF_HUB_CACHE)
    except Exception:  # pragma: no cover - huggingface_hub ships with diffusers
        return os.path.join(os.path.expanduser("~"), ".cache", "huggingface", "hub")


def resolve_weights(location: str, revision: str | None = None, *, what: str = "Qwen-Image",
                    hint: str = DOWNLOAD_HINT) -> tuple[Path, str | None]:
    """A local folder, or a repo id found in the local HF cache (never downloaded) → (folder, revision).

    The revision is the HF cache snapshot's commit hash, or None for a plain local folder.
    """
    if _looks_like_path(location):
        folder = Path(location).expanduser()
        if not folder.is_dir():
            raise ModelError(f"{what} weights not found: no folder {folder}.\n"
                             f"  Download them with: {hint}\n"
                             f"  then set DOCGEN_QWEN_MODEL (or [model] model in config.toml) to that folder.")
        return folder.resolve(), None
    try:
        from huggingface_hub import snapshot_download
        folder = Path(snapshot_download(location, revision=revision, local_files_only=True))
    except Exception as exc:  # LocalEntryNotFoundError, or a revision not in the cache
        rev = f" at revision {revision}" if revision else ""
        raise ModelError(f"{what} weights not found: {location}{rev} is not in the local Hugging Face cache "
                         f"({_hf_cache_dir()}); docgen never downloads weights.\n"
                         f"  Download them with: {hint}\n"
                         f"  or point DOCGEN_QWEN_MODEL at a local folder. ({type(exc).__name__})") from None
    return folder, folder.name


def weights_fingerprint(folder: Path) -> str:
    """sha256 over every file's relative path and size, plus the text of the small JSON/TXT files.

    Hashing 58 GB of safetensors on each start would take minutes; configs + shard sizes identify the
    weights well enough for a local cache, and an HF snapshot's revision is recorded beside it.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        size = path.stat().st_size
        digest.update(f"{rel}\0{size}\n".encode())
        if path.suffix in (".json", ".txt") and size < 1_000_000:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


_FILE_HASHES: dict[tuple[str, int, float], str] = {}


def file_sha256(path: Path) -> str:
    stat = path.stat()
    memo = (str(path), stat.st_size, stat.st_mtime)
    if memo not in _FILE_HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _FILE_HASHES[memo] = digest.hexdigest()
    return _FILE_HASHES[memo]


def lightning_lora_path(config: ModelConfig) -> Path | None:
    """The configured Lightning LoRA, if it exists (a configured but missing file is logged and skipped)."""
    if not config.lightning_lora:
        return None
    path = Path(config.lightning_lora).expanduser()
    if not path.is_file():
        log.warning("Lightning LoRA %s not found; generating with %d steps and CFG instead", path, config.steps)
        return None
    return path

def df11_weights(config: ModelConfig) -> Path | None:
    """The DFloat11 weights folder if present locally, else None."""
    try:
        folder, _ = resolve_weights(config.df11_model, what="DFloat11", hint=f"huggingface-cli download {config.df11_model}")
    except ModelError:
        return None
    return folder


def check_pipeline_folder(folder: Path) -> None:
    index = folder / "model_index.json"
    try:
        class_name = json.loads(index.read_text("utf-8")).get("_class_name")
    except (OSError, ValueError):
        raise ModelError(f"{folder} is not a diffusers pipeline folder (no readable model_index.json).\n"
                         f"  Download Qwen-Image with: {DOWNLOAD_HINT}") from None
    # Only the diffusers class is ever instantiated: a folder cannot bring its own (remote) code.
    if class_name != "QwenImagePipeline":
        raise ModelError(f"{folder} holds a {class_name!r}, not a QwenImagePipeline.")


def safetensors_keys(folder: Path) -> set[str]:
    from safetensors import safe_open

    keys: set[str] = set()
    for path in folder.glob("*.safetensors"):
        with safe_open(str(path), framework="pt") as fh:
            keys.update(fh.keys())
    return keys
