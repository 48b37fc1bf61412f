"""The ``qwen-image`` backend: region requests in, pictures from Qwen-Image (20 B MMDiT, via diffusers) out.

:func:`load_pipeline` turns a :class:`~docgen.regions.config.ModelConfig` into a loaded
``QwenImagePipeline`` placed on the device in the configured memory mode — the same code path for the
real weights and for the tiny random-weight pipeline the tests build.  Weights are only ever read from
a local folder or the local Hugging Face cache (``local_files_only=True``); nothing is downloaded.

:class:`QwenImageBackend` does one job: for each request it builds the prompt (the user's prompt, the
text clause for text-bearing regions, the language's quality suffix), picks the Qwen-Image training
resolution closest in aspect, encodes every prompt first (so the 7 B text encoder is resident once and
then leaves the GPU), denoises the regions grouped by size, and centre-crops/resizes each picture to the
requested pixels.  torch and diffusers are imported inside functions, so ``import docgen`` stays light.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import io
import json
import logging
import math
import os
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from docgen.errors import ModelError
from docgen.regions.base import RegionImage, RegionRequest
from docgen.regions.config import (
    ModelConfig,
    choose_batch_size,
    choose_df11_cpu_offload,
    choose_memory_mode,
)

log = logging.getLogger(__name__)

# Bump when anything here changes the pixels for the same request and weights (prompt wording,
# resolutions, resampling): it is part of the backend identity and so of every cache key.
BACKEND_VERSION = 1

# The resolutions Qwen-Image was trained at (model card): 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3.
QWEN_RESOLUTIONS: tuple[tuple[int, int], ...] = (
    (1328, 1328), (1664, 928), (928, 1664), (1472, 1104), (1104, 1472), (1584, 1056), (1056, 1584),
)

# The model card's "positive magic", appended to every prompt.
QUALITY_SUFFIX = {"zh": ", 超清，4K，电影级构图.", "en": ", Ultra HD, 4K, cinematic composition."}

# Qwen-Image-Lightning's scheduler (its README): a fixed exponential shift of log 3, no terminal stretch.
LIGHTNING_SCHEDULER = {"base_shift": math.log(3), "max_shift": math.log(3), "shift_terminal": None,
                       "use_dynamic_shifting": True, "time_shift_type": "exponential"}

MAX_SEQUENCE_LENGTH = 512
DOWNLOAD_HINT = ("huggingface-cli download Qwen/Qwen-Image   "
                 "(or: hf download Qwen/Qwen-Image --local-dir /path/to/Qwen-Image)")


# --------------------------------------------------------------------------------------------
# Prompt and size rules (pure)
# --------------------------------------------------------------------------------------------
def generation_size(width: int, height: int, scale: float = 1.0) -> tuple[int, int]:
    """The training resolution closest in aspect to ``width``×``height`` (scaled, multiples of 16)."""
    target = math.log(width / height)
    w, h = min(QWEN_RESOLUTIONS, key=lambda wh: (abs(math.log(wh[0] / wh[1]) - target), wh))
    if scale != 1.0:
        w, h = (max(16, int(v * scale / 16 + 0.5) * 16) for v in (w, h))
    return w, h


def fit_to(image, width: int, height: int):
    """Centre-crop ``image`` (PIL) to the target aspect, then resize with Lanczos to ``width``×``height``."""
    from PIL import Image, ImageOps

    if image.size == (width, height):
        return image
    return ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))


def _lang(language: str) -> str:
    return "zh" if language.lower().startswith("zh") else "en"


def text_clause(text: Sequence[tuple[str, str]], language: str) -> str:
    """The prompt clause asking for the region's text, in the document's language."""
    if not text:
        return ""
    if _lang(language) == "zh":
        return "，画面中清晰地写着" + "和".join(f"“{t}”" for _, t in text)
    return ", with the text " + " and ".join(f'"{t}"' for _, t in text) + " clearly written"


def build_prompt(request: RegionRequest, with_text: bool = True) -> str:
    """User prompt + text clause (if asked for) + the language's quality suffix."""
    prompt = request.prompt.strip().rstrip("。.，,")
    if with_text:
        prompt += text_clause(request.text, request.language)
    return prompt + QUALITY_SUFFIX[_lang(request.language)]


# --------------------------------------------------------------------------------------------
# Where the weights are, which device, which mode
# --------------------------------------------------------------------------------------------
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


def resolve_device(config: ModelConfig) -> str:
    import torch

    if config.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"device {config.device!r} asked for, but torch sees no CUDA GPU "
                         f"(torch {torch.__version__}, torch.cuda.is_available() is False).")
    return config.device


def resolve_dtype(config: ModelConfig, device: str):
    import torch

    name = config.dtype
    if name == "auto":
        name = "bfloat16" if device.startswith("cuda") else "float32"
    return getattr(torch, name)


def free_vram_bytes(device: str) -> int | None:
    import torch

    if not device.startswith("cuda"):
        return None
    free, _total = torch.cuda.mem_get_info(torch.device(device))
    return int(free)


def host_ram_bytes() -> int:
    """Available host RAM (``MemAvailable``), falling back to physical RAM."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def df11_weights(config: ModelConfig) -> Path | None:
    """The DFloat11 weights folder if present locally, else None."""
    try:
        folder, _ = resolve_weights(config.df11_model, what="DFloat11", hint=f"huggingface-cli download {config.df11_model}")
    except ModelError:
        return None
    return folder


def resolve_memory_mode(config: ModelConfig, device: str) -> str:
    """The configured mode, or for ``auto`` :func:`choose_memory_mode` on this machine's numbers."""
    mode = config.memory_mode
    on_gpu = device.startswith("cuda")
    if mode == "auto":
        if not on_gpu:
            return "none"
        has_df11 = df11_weights(config) is not None and dfloat11_import_error() is None
        return choose_memory_mode(free_vram_bytes(device), host_ram_bytes(), has_df11)
    if mode != "none" and not on_gpu:
        raise ModelError(f"memory mode {mode!r} needs a CUDA GPU, but the device is {device!r} "
                         f"(torch.cuda.is_available() is {_cuda_available()}). "
                         f"Use memory mode 'none' to run on the CPU, or run on a machine with an NVIDIA GPU.")
    return mode


def _cuda_available() -> bool:
    import torch
    return torch.cuda.is_available()


# --------------------------------------------------------------------------------------------
# dfloat11: imported only on its GPU path; every known import failure becomes a clear message
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _dfloat11_import_shims():
    """dfloat11 0.5.0 imports two names that current libraries dropped; lend them for its import only.

    - ``pkg_resources`` (removed from setuptools ≥ 82): it only calls ``resource_filename`` to find its
      PTX kernel, which ``importlib.resources`` answers.
    - ``transformers.modeling_utils.no_init_weights`` (moved to ``transformers.initialization`` in 5.x).
    """
    added_pkg_resources = False
    if importlib.util.find_spec("pkg_resources") is None:
        shim = types.ModuleType("pkg_resources")

        def resource_filename(package: str, name: str) -> str:
            import importlib.resources
            return str(importlib.resources.files(package) / name)

        shim.resource_filename = resource_filename  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim
        added_pkg_resources = True
    added_no_init = False
    with contextlib.suppress(ImportError):
        import transformers.modeling_utils as tmu
        if not hasattr(tmu, "no_init_weights"):
            from transformers.initialization import no_init_weights
            tmu.no_init_weights = no_init_weights
            added_no_init = True
    try:
        yield
    finally:
        if added_pkg_resources and sys.modules.get("pkg_resources") is not None \
                and getattr(sys.modules["pkg_resources"], "__file__", None) is None:
            del sys.modules["pkg_resources"]
        if added_no_init:
            import transformers.modeling_utils as tmu
            with contextlib.suppress(AttributeError):
                del tmu.no_init_weights


def import_dfloat11():
    """``import dfloat11``, or a ModelError saying in plain words why it cannot be used here."""
    if "dfloat11" in sys.modules:
        return sys.modules["dfloat11"]
    if importlib.util.find_spec("dfloat11") is None:
        raise ModelError("memory mode 'dfloat11' needs the dfloat11 package: pip install 'dfloat11[cuda12]' "
                         "(it needs an NVIDIA GPU with CUDA 12).")
    try:
        import torch
        if not torch.cuda.is_available():
            raise ModelError("dfloat11 decompresses weights with a CUDA kernel, but torch sees no CUDA GPU "
                             "here. Use memory mode 'none' (CPU) or run on an NVIDIA GPU.")
        with _dfloat11_import_shims():
            return importlib.import_module("dfloat11")
    except ModelError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("cupy"):
            raise ModelError("dfloat11 needs CuPy for CUDA 12: pip install 'dfloat11[cuda12]' "
                             "(or: pip install cupy-cuda12x).") from None
        if exc.name == "pkg_resources":
            raise ModelError("dfloat11 imports pkg_resources, which setuptools ≥ 82 no longer ships: "
                             "pip install 'setuptools<82'.") from None
        raise ModelError(f"dfloat11 cannot be imported: missing module {exc.name!r} ({exc}).") from None
    except ImportError as exc:
        if "no_init_weights" in str(exc):
            raise ModelError("dfloat11 0.5 imports transformers.modeling_utils.no_init_weights, which this "
                             f"transformers ({_version('transformers')}) no longer has: upgrade dfloat11, or "
                             "use memory mode 'model-offload' / 'group-offload'.") from None
        raise ModelError(f"dfloat11 cannot be imported: {exc}") from None
    except Exception as exc:  # cupy's CUDA errors: no driver, no libcuda, PTX compile failure
        raise ModelError(f"dfloat11 cannot start its CUDA kernel ({type(exc).__name__}: {exc}). It needs an "
                         "NVIDIA GPU, a CUDA 12 driver and CuPy for CUDA 12 (pip install cupy-cuda12x).") from None


def dfloat11_import_error() -> str | None:
    """None if dfloat11 imports here, else the reason (for ``auto`` and ``docgen doctor``)."""
    try:
        import_dfloat11()
    except ModelError as exc:
        return str(exc)
    return None


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


# --------------------------------------------------------------------------------------------
# The loader
# --------------------------------------------------------------------------------------------
@dataclass
class LoadedPipeline:
    """A QwenImagePipeline placed on its device, and what the backend needs to know about how."""

    pipe: Any
    device: str                 # where the denoising runs ("cuda", "cpu")
    dtype: Any                  # torch dtype of the weights
    memory_mode: str            # none | model-offload | group-offload | dfloat11
    model_dir: Path
    revision: str | None
    lora: Path | None = None
    batch_size: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def execution_device(self):
        return self.pipe._execution_device

    def release_text_encoder(self) -> None:
        """After encoding: get the 7 B text encoder off the GPU before the transformer needs the room."""
        if self.memory_mode in ("model-offload", "dfloat11"):
            self.pipe.maybe_free_model_hooks()        # offloads every component back to the CPU
        # "none" keeps everything resident by definition; "group-offload" already streamed it out.


_PIPELINES: dict[ModelConfig, LoadedPipeline] = {}


def load_pipeline(config: ModelConfig) -> LoadedPipeline:
    """The process's pipeline for ``config`` (loaded on first use, then reused)."""
    if config not in _PIPELINES:
        _PIPELINES[config] = _load(config)
    return _PIPELINES[config]


def unload_pipelines() -> None:
    """Drop every loaded pipeline (tests, or a long-lived process switching models)."""
    _PIPELINES.clear()
    with contextlib.suppress(Exception):
        import gc

        import torch
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _check_pipeline_folder(folder: Path) -> None:
    index = folder / "model_index.json"
    try:
        class_name = json.loads(index.read_text("utf-8")).get("_class_name")
    except (OSError, ValueError):
        raise ModelError(f"{folder} is not a diffusers pipeline folder (no readable model_index.json).\n"
                         f"  Download Qwen-Image with: {DOWNLOAD_HINT}") from None
    # Only the diffusers class is ever instantiated: a folder cannot bring its own (remote) code.
    if class_name != "QwenImagePipeline":
        raise ModelError(f"{folder} holds a {class_name!r}, not a QwenImagePipeline.")


def _load(config: ModelConfig) -> LoadedPipeline:
    import torch

    device = resolve_device(config)
    mode = resolve_memory_mode(config, device)          # errors for GPU-only modes come before any I/O
    free = free_vram_bytes(device)                      # before the weights take their share
    dtype = resolve_dtype(config, device)
    model_dir, revision = resolve_weights(config.model, config.revision)
    _check_pipeline_folder(model_dir)
    lora = lightning_lora_path(config)
    if lora is not None and mode == "dfloat11":
        raise ModelError("the Lightning LoRA cannot be applied to DFloat11-compressed weights; "
                         "choose memory mode model-offload or group-offload, or unset DOCGEN_LIGHTNING_LORA.")

    from diffusers import QwenImagePipeline

    components: dict[str, Any] = {}
    notes: list[str] = []
    if mode == "dfloat11":
        if dtype != torch.bfloat16:
            raise ModelError("memory mode 'dfloat11' runs in bfloat16 only; set dtype to bfloat16 or auto.")
        components["transformer"] = _load_dfloat11_transformer(config, model_dir, device, notes)

    try:
        pipe = QwenImagePipeline.from_pretrained(model_dir, local_files_only=True, dtype=dtype, **components)
    except (OSError, ValueError) as exc:
        raise ModelError(f"could not load Qwen-Image from {model_dir}: {exc}\n"
                         f"  The download may be incomplete; re-run: {DOWNLOAD_HINT}") from None

    if lora is not None:
        from diffusers import FlowMatchEulerDiscreteScheduler

        pipe.load_lora_weights(str(lora.parent), weight_name=lora.name, local_files_only=True)
        pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(pipe.scheduler.config, **LIGHTNING_SCHEDULER)
        notes.append(f"lightning LoRA {lora.name}")

    _place(pipe, mode, device)
    batch = config.batch_size or choose_batch_size(free, mode)
    return LoadedPipeline(pipe=pipe, device=device, dtype=dtype, memory_mode=mode, model_dir=model_dir,
                          revision=revision, lora=lora, batch_size=batch, notes=notes)


def _place(pipe, mode: str, device: str) -> None:
    """Put the components where the memory mode says (diffusers' documented offloading APIs)."""
    import torch

    if mode == "none":
        pipe.to(device)
    elif mode in ("model-offload", "dfloat11"):
        pipe.enable_model_cpu_offload(device=device)
    elif mode == "group-offload":
        from diffusers.hooks import apply_group_offloading

        onload, offload = torch.device(device), torch.device("cpu")
        stream = onload.type == "cuda"      # prefetch the next group on a side stream (CUDA only)
        # Transformer: one of its 60 blocks on the GPU at a time, the next one prefetched.
        pipe.transformer.enable_group_offload(onload_device=onload, offload_device=offload,
                                              offload_type="block_level", num_blocks_per_group=1,
                                              use_stream=stream)
        # Text encoder (a transformers model, not a diffusers ModelMixin): the same, block by block.
        apply_group_offloading(pipe.text_encoder, onload_device=onload, offload_device=offload,
                               offload_type="block_level", num_blocks_per_group=1, use_stream=stream)
        # VAE: small weights, large activations; leaf-level keeps only the running layer resident.
        pipe.vae.enable_group_offload(onload_device=onload, offload_device=offload,
                                      offload_type="leaf_level", use_stream=stream)
    else:  # pragma: no cover - resolve_memory_mode only returns the modes above
        raise ModelError(f"unknown memory mode {mode!r}")


def _load_dfloat11_transformer(config: ModelConfig, model_dir: Path, device: str, notes: list[str]):
    """The transformer skeleton without its 41 GB of bf16 weights, filled from the DFloat11 files."""
    import torch
    from accelerate import init_empty_weights
    from diffusers import QwenImageTransformer2DModel

    dfloat11 = import_dfloat11()
    df11_dir, _ = resolve_weights(config.df11_model, what="DFloat11 Qwen-Image",
                                  hint=f"huggingface-cli download {config.df11_model}")
    transformer_config = QwenImageTransformer2DModel.load_config(model_dir, subfolder="transformer",
                                                                 local_files_only=True)
    with init_empty_weights():      # parameters on the meta device: nothing allocated
        transformer = QwenImageTransformer2DModel.from_config(transformer_config)
    # DFloat11 copies the uncompressed tensors (norms, biases, embeddings) into existing parameters and
    # deletes the compressed Linear weights, so give each parameter real but untouched storage: the
    # kernel backs a page only when it is written, so the deleted 41 GB never reach host RAM.
    for module in transformer.modules():
        for name, param in list(module._parameters.items()):
            if param is not None and param.is_meta:
                module._parameters[name] = torch.nn.Parameter(
                    torch.empty(param.shape, dtype=torch.bfloat16, device="cpu"), requires_grad=False)
    expected = _safetensors_keys(df11_dir)
    cpu_offload = config.df11_cpu_offload
    if cpu_offload is None:
        cpu_offload = choose_df11_cpu_offload(free_vram_bytes(device))
    dfloat11.DFloat11Model.from_pretrained(str(df11_dir), device="cpu", bfloat16_model=transformer,
                                           cpu_offload=cpu_offload, pin_memory=True)
    # Anything still a parameter that the DF11 files did not fill would be uninitialised memory.
    unfilled = [name for name, _ in transformer.named_parameters() if name not in expected]
    if unfilled:
        raise ModelError(f"the DFloat11 weights in {df11_dir} do not match this Qwen-Image transformer "
                         f"({len(unfilled)} tensors missing, e.g. {unfilled[0]}).")
    notes.append(f"dfloat11 {'with' if cpu_offload else 'without'} cpu_offload")
    return transformer.eval()


def _safetensors_keys(folder: Path) -> set[str]:
    from safetensors import safe_open

    keys: set[str] = set()
    for path in folder.glob("*.safetensors"):
        with safe_open(str(path), framework="pt") as fh:
            keys.update(fh.keys())
    return keys


# --------------------------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------------------------
@dataclass
class _Job:
    request: RegionRequest
    prompt: str
    negative: str
    size: tuple[int, int]          # generation size (w, h)


class QwenImageBackend:
    """Qwen-Image through diffusers: requests in, pictures out (same order, same length)."""

    name = "qwen-image"

    def __init__(self, config: ModelConfig | None = None):
        self.config = config or ModelConfig.from_env()
        self.calls = 0              # denoising runs (pipeline calls) made by this backend
        self.generated = 0          # pictures generated (not read from a cache)
        self._identity: dict | None = None

    # -- identity: what, besides the request, determines the pixels ----------------------------
    def identity(self) -> dict:
        """Computed from the config and the files on disk, without loading the model."""
        if self._identity is None:
            self._identity = self._compute_identity()
        return self._identity

    def _compute_identity(self) -> dict:
        cfg = self.config
        device = resolve_device(cfg)
        model_dir, revision = resolve_weights(cfg.model, cfg.revision)
        lora = lightning_lora_path(cfg)
        try:
            scheduler = json.loads((model_dir / "scheduler" / "scheduler_config.json").read_text("utf-8"))
        except (OSError, ValueError):
            raise ModelError(f"{model_dir} has no readable scheduler/scheduler_config.json; "
                             f"the download may be incomplete: {DOWNLOAD_HINT}") from None
        scheduler = {k: v for k, v in scheduler.items() if not k.startswith("_")}
        if lora is not None:
            scheduler.update(LIGHTNING_SCHEDULER)
        steps, cfg_scale = self._steps_and_cfg(lora)
        return {
            "backend": self.name,
            "backend_version": BACKEND_VERSION,
            "model": cfg.model,
            "revision": revision,
            "weights": weights_fingerprint(model_dir),
            # The dtype and the kind of device change the numbers; the memory mode does not (offloading
            # moves the same weights, DFloat11 decompresses them bit-exactly), so it is left out.
            "dtype": str(resolve_dtype(cfg, device)).removeprefix("torch."),
            "device": device.split(":")[0],
            "scheduler": scheduler,
            "steps": steps,
            "true_cfg_scale": cfg_scale,
            "negative_prompt": cfg.negative_prompt,
            "size_scale": cfg.size_scale,
            "lora": {"file": lora.name, "sha256": file_sha256(lora)} if lora else None,
            "versions": {d: _version(d) for d in ("torch", "diffusers", "transformers")},
        }

    def _steps_and_cfg(self, lora: Path | None) -> tuple[int, float]:
        if lora is not None:
            return self.config.lightning_steps, 1.0       # distilled: CFG off
        return self.config.steps, self.config.true_cfg_scale

    # -- generation ---------------------------------------------------------------------------
    def generate(self, requests: Sequence[RegionRequest]) -> list[RegionImage]:
        if not requests:
            return []
        import torch

        loaded = load_pipeline(self.config)
        steps, cfg_scale = self._steps_and_cfg(loaded.lora)
        use_cfg = cfg_scale > 1.0
        jobs = [_Job(request=r, prompt=build_prompt(r),
                     negative=r.negative_prompt.strip() or self.config.negative_prompt,
                     size=generation_size(r.width, r.height, self.config.size_scale)) for r in requests]

        # 1. Every prompt through the text encoder while it is resident, then get it off the GPU.
        texts = {j.prompt for j in jobs} | ({j.negative for j in jobs} if use_cfg else set())
        with torch.inference_mode():
            embeds = {t: self._encode(loaded, t) for t in sorted(texts)}
        loaded.release_text_encoder()

        # 2. Denoise, regions of one generation size together, at most batch_size at a time.
        pictures: dict[int, Any] = {}
        order = sorted(range(len(jobs)), key=lambda i: (jobs[i].size, i))
        batches: list[list[int]] = []
        for i in order:
            if batches and jobs[batches[-1][0]].size == jobs[i].size and len(batches[-1]) < loaded.batch_size:
                batches[-1].append(i)
            else:
                batches.append([i])
        for batch in batches:
            images = self._denoise(loaded, [jobs[i] for i in batch], embeds, steps, cfg_scale, use_cfg)
            pictures.update(zip(batch, images))

        # 3. Fit each picture to its region and record where it came from.
        out = []
        for i, job in enumerate(jobs):
            r = job.request
            picture = fit_to(pictures[i].convert("RGB"), r.width, r.height)
            out.append(RegionImage(png=_png_bytes(picture), width=r.width, height=r.height, backend=self.name,
                                   info=self._info(job, loaded, steps, cfg_scale)))
        self.generated += len(out)
        return out

    def _encode(self, loaded: LoadedPipeline, text: str):
        embeds, mask = loaded.pipe.encode_prompt(prompt=[text], device=loaded.execution_device,
                                                 max_sequence_length=MAX_SEQUENCE_LENGTH)
        return embeds, mask

    def _denoise(self, loaded, batch: list[_Job], embeds, steps: int, cfg_scale: float, use_cfg: bool):
        import torch

        width, height = batch[0].size
        prompt_embeds, prompt_mask = _stack([embeds[j.prompt] for j in batch])
        kwargs: dict[str, Any] = {}
        if use_cfg:
            neg_embeds, neg_mask = _stack([embeds[j.negative] for j in batch])
            kwargs.update(negative_prompt_embeds=neg_embeds, negative_prompt_embeds_mask=neg_mask)
        # One CPU generator per region: the noise depends on the seed alone, not on the batch or device.
        generators = [torch.Generator("cpu").manual_seed(j.request.seed & 0xFFFF_FFFF_FFFF_FFFF) for j in batch]
        label = ", ".join(j.request.region_id or "region" for j in batch)
        loaded.pipe.set_progress_bar_config(disable=not _stderr_is_tty(), desc=f"{label} {width}×{height}",
                                            leave=False)
        self.calls += 1
        result = loaded.pipe(prompt_embeds=prompt_embeds, prompt_embeds_mask=prompt_mask,
                             true_cfg_scale=cfg_scale, height=height, width=width,
                             num_inference_steps=steps, generator=generators, output_type="pil", **kwargs)
        return result.images

    def _info(self, job: _Job, loaded: LoadedPipeline, steps: int, cfg_scale: float) -> dict:
        identity = self.identity()
        r = job.request
        return {
            "model": self.config.model,
            "revision": identity["revision"],
            "weights": identity["weights"],
            "region_id": r.region_id,
            "seed": r.seed,
            "prompt_hash": r.prompt_hash(),
            "steps": steps,
            "true_cfg_scale": cfg_scale,
            "generated_size": list(job.size),
            "dtype": identity["dtype"],
            "memory_mode": loaded.memory_mode,
            "lora": identity["lora"]["file"] if identity["lora"] else None,
            "path": "model-text" if r.text else "no-text",
        }


def _stack(pairs):
    """Pad per-prompt embeddings to one length and stack them, with the mask marking real tokens."""
    import torch

    length = max(e.shape[1] for e, _ in pairs)
    embeds, masks = [], []
    for e, m in pairs:
        n = e.shape[1]
        mask = torch.ones((1, n), dtype=torch.long, device=e.device) if m is None else m.to(torch.long)
        embeds.append(torch.nn.functional.pad(e, (0, 0, 0, length - n)))
        masks.append(torch.nn.functional.pad(mask, (0, length - n)))
    return torch.cat(embeds), torch.cat(masks)


def _png_bytes(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")   # no text chunks, no timestamps: same pixels, same bytes
    return buf.getvalue()


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def available_backend(required: bool = False, config: ModelConfig | None = None
                      ) -> tuple["QwenImageBackend | None", str | None]:
    """The backend if it can run here, else (None, why); ``required`` turns the why into a ModelError.

    ``backend = auto`` asks with ``required=False`` and falls back to draft art; ``backend = qwen-image``
    asks with ``required=True``, so a missing GPU mode or missing weights stops the render with the
    message saying where docgen looked and how to download.
    """
    config = config or ModelConfig.from_env()
    if required:
        device = resolve_device(config)
        resolve_memory_mode(config, device)
        resolve_weights(config.model, config.revision)
        return QwenImageBackend(config), None
    ok, why = qwen_image_available(config)
    return (QwenImageBackend(config), None) if ok else (None, f"Qwen-Image unavailable: {why}")


def qwen_image_available(config: ModelConfig) -> tuple[bool, str]:
    """Whether ``qwen-image`` can run here (for ``backend = auto``), and why not if it cannot.

    Needs the weights locally, torch and a CUDA GPU (the full model on a CPU takes hours per picture).
    The weights are looked for first: that is a few file checks, so a machine without them never pays for
    importing torch (the draft path stays light).
    """
    try:
        resolve_weights(config.model, config.revision)
    except ModelError as exc:
        return False, str(exc).splitlines()[0]
    try:
        import torch
    except ImportError:
        return False, "torch is not installed"
    if config.device == "auto" and not torch.cuda.is_available():
        return False, "no CUDA GPU"
    try:
        resolve_device(config)
    except ModelError as exc:
        return False, str(exc).splitlines()[0]
    return True, "ok"
