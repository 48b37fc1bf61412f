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

DOWNLOAD_HINT = ("hf download Qwen/Qwen-Image   "
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
        # a repo the cache has never seen has no models--owner--name folder: say so without importing
        # huggingface_hub's client (0.4 s of a cold render that then falls back to draft pictures)
        if not (Path(_hf_cache_dir()) / ("models--" + location.replace("/", "--"))).is_dir():
            raise FileNotFoundError(location)
        from huggingface_hub import snapshot_download
        folder = Path(snapshot_download(location, revision=revision, local_files_only=True))
    except Exception as exc:  # LocalEntryNotFoundError, or a revision not in the cache
        rev = f" at revision {revision}" if revision else ""
        raise ModelError(f"{what} weights not found: {location}{rev} is not in the local Hugging Face cache "
                         f"({_hf_cache_dir()}); docgen never downloads weights.\n"
                         f"  Download them with: {hint}\n"
                         f"  or point DOCGEN_QWEN_MODEL at a local folder. ({type(exc).__name__})") from None
    return folder, folder.name


# Files up to this size are hashed whole; larger ones by their safetensors header and sampled bytes.
_WHOLE_FILE_BYTES = 64 * 1024**2
_SAMPLES = 16                    # evenly spaced samples of a large file's data section ...
_SAMPLE_BYTES = 64 * 1024        # ... of this many bytes each: 1 MiB read per 5 GB shard


def weights_fingerprint(folder: Path) -> str:
    """sha256 over every file's relative path, size and content (whole, or header + sampled bytes).

    Hashing 58 GB of safetensors on each start would take minutes, and sizes alone miss weights rewritten
    in place with new values (same shapes, same sizes): so small files are hashed whole, and a large one
    by its safetensors header (every tensor's name, dtype, shape and offsets) plus 16 evenly spaced
    64 KiB samples of its data — about 1 MiB read per shard.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        size = path.stat().st_size
        digest.update(f"{rel}\0{size}\n".encode())
        digest.update(_content_digest(path, size))
    return digest.hexdigest()[:32]


def _content_digest(path: Path, size: int) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        if size <= _WHOLE_FILE_BYTES:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
            return digest.digest()
        start = 0
        if path.suffix == ".safetensors":
            head = fh.read(8)
            if len(head) == 8:
                start = min(size, 8 + int.from_bytes(head, "little"))
                fh.seek(0)
                digest.update(fh.read(start))          # the header: names, dtypes, shapes, offsets
        span = max(1, size - start)
        for k in range(_SAMPLES):
            fh.seek(start + span * k // _SAMPLES)
            digest.update(fh.read(_SAMPLE_BYTES))
        fh.seek(max(start, size - _SAMPLE_BYTES))      # and the very end, where a truncation shows
        digest.update(fh.read(_SAMPLE_BYTES))
    return digest.digest()


# --------------------------------------------------------------------------------------------
# Checks before loading: every failure names the file, so a broken download is never an
# "internal error" from deep inside safetensors, or a model quietly built from random weights.
# --------------------------------------------------------------------------------------------
_HEADER_LIMIT = 100 * 1024**2       # safetensors' own cap on a header


def safetensors_header(path: Path) -> dict:
    """The parsed header of a safetensors file ({tensor: {dtype, shape, data_offsets}}), checked to
    cover the file exactly; a ModelError naming the file if it is truncated or not safetensors."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            length = int.from_bytes(head, "little") if len(head) == 8 else -1
            if not 0 < length <= min(_HEADER_LIMIT, size - 8):
                raise ValueError("no valid header")
            header = json.loads(fh.read(length))
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the weights file ({exc.strerror or exc}).") from None
    except ValueError:
        raise ModelError(f"{path}: not a valid safetensors file (truncated or corrupted download).\n"
                         f"  Download it again: {DOWNLOAD_HINT}") from None
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    end = max((v.get("data_offsets", [0, 0])[1] for v in tensors.values()), default=0)
    if 8 + length + end != size:
        raise ModelError(f"{path}: the weights file is {size} bytes but its header describes "
                         f"{8 + length + end} (truncated or corrupted download).\n"
                         f"  Download it again: {DOWNLOAD_HINT}")
    return tensors


def safetensors_shapes(folder: Path) -> dict[str, tuple[int, ...]]:
    """Every tensor of the folder's safetensors files and its shape (headers only, each file checked)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for path in sorted(folder.glob("*.safetensors")):
        shapes.update({k: tuple(v["shape"]) for k, v in safetensors_header(path).items()})
    return shapes


_TOKENIZER_FILES = (("tokenizer.json",), ("vocab.json", "merges.txt"))


def check_components(folder: Path) -> None:
    """Every component model_index.json names has its folder; weights are whole; the tokenizer is there.

    diffusers builds an *empty* tokenizer when ``tokenizer/`` is missing and loads on quietly, so the
    folders are checked here before it gets the chance.
    """
    check_pipeline_folder(folder)
    index = json.loads((folder / "model_index.json").read_text("utf-8"))
    for name, spec in sorted(index.items()):
        if name.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        sub = folder / name
        if not sub.is_dir():
            raise ModelError(f"{sub}: missing; model_index.json lists a {name} component "
                             f"(incomplete download).\n  Download it again: {DOWNLOAD_HINT}")
        if name == "tokenizer":
            if not any(all((sub / f).is_file() for f in files) for files in _TOKENIZER_FILES):
                raise ModelError(f"{sub}: no tokenizer files (tokenizer.json, or vocab.json and merges.txt).\n"
                                 f"  Download it again: {DOWNLOAD_HINT}")
        elif not (sub / "config.json").is_file() and not (sub / "scheduler_config.json").is_file():
            raise ModelError(f"{sub}: no config.json (incomplete download).\n  Download it again: {DOWNLOAD_HINT}")
        safetensors_shapes(sub)


def check_configs_match_weights(folder: Path) -> None:
    """The transformer's and VAE's configs describe exactly the tensors their weights hold.

    A config that asks for more layers than the weights have makes diffusers initialise the rest at
    random with only a log warning; one that asks for other sizes fails deep inside loading.  The model
    is built on the meta device (nothing allocated) and its tensors compared with the safetensors headers.
    """
    import diffusers
    from accelerate import init_empty_weights

    for name in ("transformer", "vae"):
        sub = folder / name
        config_path = sub / "config.json"
        try:
            config = json.loads(config_path.read_text("utf-8"))
            cls = getattr(diffusers, config["_class_name"])
            with init_empty_weights():
                model = cls.from_config(cls.load_config(sub))
        except Exception as exc:
            raise ModelError(f"{config_path}: not a usable {name} config ({type(exc).__name__}: {exc}).") from None
        expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        found = safetensors_shapes(sub)
        missing = sorted(set(expected) - set(found))
        unexpected = sorted(set(found) - set(expected))
        wrong = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
        if missing or unexpected or wrong:
            example = (f"{missing[0]} missing" if missing else f"{unexpected[0]} unexpected" if unexpected
                       else f"{wrong[0]}: config wants {list(expected[wrong[0]])}, "
                            f"weights have {list(found[wrong[0]])}")
            raise ModelError(f"{config_path} does not match the weights in {sub}: {len(missing)} tensors missing, "
                             f"{len(unexpected)} unexpected, {len(wrong)} of another shape (e.g. {example}).")


def check_df11_weights(df11_dir: Path, model_dir: Path) -> None:
    """The DFloat11 files belong to this base model: the tensors they keep uncompressed (norms, biases,
    embeddings) are tensors of the base transformer, with the same shapes."""
    base = safetensors_shapes(model_dir / "transformer")
    if not list(df11_dir.glob("*.safetensors")):
        raise ModelError(f"{df11_dir}: no DFloat11 .safetensors files (incomplete download).")
    for path in sorted(df11_dir.glob("*.safetensors")):
        tensors = {k: tuple(v["shape"]) for k, v in safetensors_header(path).items()}
        shared = [k for k in tensors if k in base]
        wrong = [k for k in shared if tensors[k] != base[k]]
        if not shared or wrong:
            detail = (f"{wrong[0]} is {list(tensors[wrong[0]])} there but {list(base[wrong[0]])} in the base model"
                      if wrong else "none of its tensors is a tensor of the base transformer")
            raise ModelError(f"{path}: these DFloat11 weights do not belong to the Qwen-Image weights in "
                             f"{model_dir} ({detail}).")


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
        folder, _ = resolve_weights(config.df11_model, what="DFloat11", hint=f"hf download {config.df11_model}")
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
