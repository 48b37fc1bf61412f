"""Model configuration for the image backends: defaults, config file and environment in, a frozen
:class:`ModelConfig` out.

Where the weights live, which dtype and memory mode to run, how many steps: these are decisions of the
machine's owner, never of a document.  A spec cannot choose a model, a revision or remote code; the
only sources are, lowest precedence first,

1. the defaults below (Qwen-Image's recommended settings),
2. the config file (``$DOCGEN_CONFIG`` or ``config.toml`` in the OS's config folder for docgen — platformdirs:
   ``$XDG_CONFIG_HOME/docgen`` on Linux —, its ``[model]`` table),
3. environment variables (``DOCGEN_QWEN_MODEL`` …, see :data:`ENV_VARS`),
4. the ``overrides`` dict the CLI builds from its flags.

:func:`choose_memory_mode` is the pure rule behind ``memory_mode = "auto"``: the memory planner
(:mod:`docgen.regions.plan`) on the machine's free VRAM and available host RAM.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from docgen._io import user_cache_root, user_config_root
from docgen.errors import DocgenError

MEMORY_MODES = ("auto", "none", "dfloat11", "model-offload", "dfloat11-offload", "bf16-blockswap", "group-offload")
DTYPES = ("auto", "bfloat16", "float16", "float32")

DEFAULT_MODEL = "Qwen/Qwen-Image"
DEFAULT_DF11_MODEL = "DFloat11/Qwen-Image-DF11"

GB = 10**9

# Rough resident sizes of Qwen-Image in bfloat16 (the safetensors on the hub), used by the auto rule.
TRANSFORMER_BYTES = 41 * GB          # 20.4 B parameters
TEXT_ENCODER_BYTES = 17 * GB         # Qwen2.5-VL-7B
DF11_TRANSFORMER_BYTES = 29 * GB     # DFloat11-compressed transformer (bit-identical outputs)

# field name -> environment variable
ENV_VARS = {
    "backend": "DOCGEN_BACKEND",
    "model": "DOCGEN_QWEN_MODEL",
    "revision": "DOCGEN_QWEN_REVISION",
    "dtype": "DOCGEN_QWEN_DTYPE",
    "memory_mode": "DOCGEN_MEMORY_MODE",
    "df11_model": "DOCGEN_DF11_MODEL",
    "df11_cpu_offload": "DOCGEN_DF11_CPU_OFFLOAD",
    "steps": "DOCGEN_QWEN_STEPS",
    "true_cfg_scale": "DOCGEN_QWEN_CFG",
    "negative_prompt": "DOCGEN_QWEN_NEGATIVE_PROMPT",
    "lightning_lora": "DOCGEN_LIGHTNING_LORA",
    "lightning_steps": "DOCGEN_LIGHTNING_STEPS",
    "ocr_budget": "DOCGEN_OCR_BUDGET",
    "ocr_threshold": "DOCGEN_OCR_THRESHOLD",
    "device": "DOCGEN_DEVICE",
    "batch_size": "DOCGEN_QWEN_BATCH",
    "size_scale": "DOCGEN_QWEN_SIZE_SCALE",
    "cache_dir": "DOCGEN_CACHE_DIR",
    "cache_max_bytes": "DOCGEN_CACHE_MAX_BYTES",
}


def default_cache_dir() -> str:
    """``regions`` in docgen's cache folder (:func:`docgen._io.user_cache_root`); in
    :meth:`ModelConfig.from_env` ``$DOCGEN_CACHE_DIR`` itself is the regions cache (:data:`ENV_VARS`)."""
    return os.path.join(os.fspath(user_cache_root()), "regions")


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$DOCGEN_CONFIG``, else ``config.toml`` in the OS's config folder for docgen
    (:func:`docgen._io.user_config_root`: ``~/.config/docgen/config.toml`` on Linux)."""
    env = os.environ if env is None else env
    if env.get("DOCGEN_CONFIG"):
        return Path(env["DOCGEN_CONFIG"]).expanduser()
    return user_config_root() / "config.toml"


@dataclass(frozen=True)
class ModelConfig:
    """How this machine runs the image model.  Frozen and hashable: one loaded pipeline per config."""

    backend: str = "auto"                  # auto, or a registered name (docgen.regions.registry): draft, qwen-image…
    model: str = DEFAULT_MODEL             # local folder, or a repo id looked up in the local HF cache only
    revision: str | None = None            # HF cache revision (branch, tag or commit) when `model` is a repo id
    dtype: str = "auto"                    # auto = bfloat16 on CUDA, float32 on CPU
    memory_mode: str = "auto"              # auto, or one of MEMORY_MODES (fastest first; see regions/plan.py)
    df11_model: str = DEFAULT_DF11_MODEL   # DFloat11 weights: local folder or repo id (local HF cache only)
    df11_cpu_offload: bool | None = None   # None = decide from free VRAM
    steps: int = 50
    true_cfg_scale: float = 4.0
    negative_prompt: str = " "             # the model card's default; a request's own one wins
    lightning_lora: str | None = None      # local .safetensors of a Qwen-Image-Lightning LoRA
    lightning_steps: int = 8
    ocr_budget: int = 3                    # model attempts for a text-bearing region before the fallback
    ocr_threshold: float = 1.0             # 1.0 = exact match after normalisation
    device: str = "auto"                   # auto | cpu | cuda | cuda:N
    batch_size: int | None = None          # None = decide from free VRAM and memory mode
    size_scale: float = 1.0                # scales Qwen-Image's generation sizes (tests use tiny ones)
    cache_dir: str = field(default_factory=default_cache_dir)
    cache_max_bytes: int = 5 * 1024**3

    def __post_init__(self):
        problems = []
        from docgen.regions.registry import AUTO, backend_names   # here: the registry imports this module
        if self.backend != AUTO and self.backend not in backend_names():
            problems.append(f"backend: must be one of {', '.join((AUTO, *backend_names()))}, not {self.backend!r}")
        if self.memory_mode not in MEMORY_MODES:
            problems.append(f"memory_mode: must be one of {', '.join(MEMORY_MODES)}, not {self.memory_mode!r}")
        if self.dtype not in DTYPES:
            problems.append(f"dtype: must be one of {', '.join(DTYPES)}, not {self.dtype!r}")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            problems.append(f"device: must be auto, cpu, cuda or cuda:N, not {self.device!r}")
        if self.steps < 1 or self.lightning_steps < 1:
            problems.append("steps: must be at least 1")
        if self.ocr_budget < 1:
            problems.append("ocr_budget: must be at least 1")
        if not 0.0 < self.ocr_threshold <= 1.0:
            problems.append("ocr_threshold: must be in (0, 1]")
        if self.batch_size is not None and self.batch_size < 1:
            problems.append("batch_size: must be at least 1")
        if not 0.0 < self.size_scale <= 1.0:
            problems.append("size_scale: must be in (0, 1]")
        if not self.model:
            problems.append("model: must not be empty")
        if problems:
            raise DocgenError("invalid model configuration:\n  " + "\n  ".join(problems))

    @classmethod
    def from_env(cls, overrides: Mapping[str, Any] | None = None, *, env: Mapping[str, str] | None = None,
                 config_file: str | os.PathLike | None = None) -> "ModelConfig":
        """Defaults < config file < environment < ``overrides`` (CLI flags; ``None`` values are ignored)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = Path(config_file) if config_file is not None else default_config_path(env)
        values.update(_read_config_file(path, explicit=config_file is not None or bool(env.get("DOCGEN_CONFIG"))))
        for name, var in ENV_VARS.items():
            if env.get(var, "") != "":
                values[name] = _coerce(name, env[var], source=var)
        for name, value in (overrides or {}).items():
            if name not in _FIELDS:
                raise DocgenError(f"unknown model setting {name!r} (known: {', '.join(sorted(_FIELDS))})")
            if value is not None:
                values[name] = _coerce(name, value, source=f"--{name.replace('_', '-')}")
        return cls(**values)

    def replace(self, **changes) -> "ModelConfig":
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


_FIELDS = {f.name: f for f in dataclasses.fields(ModelConfig)}
_BOOL_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _coerce(name: str, value: Any, *, source: str) -> Any:
    """Turn a string (env var, flag) or TOML value into the field's type; errors name the source."""
    kind = _FIELDS[name].type
    try:
        if isinstance(value, str) and value.strip().lower() in ("none", "auto", "") and "None" in kind:
            return None
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            return _BOOL_WORDS[str(value).strip().lower()]
        return str(value)
    except (ValueError, KeyError):
        raise DocgenError(f"{source}: {value!r} is not a valid {name} ({kind})") from None


def _read_config_file(path: Path, *, explicit: bool) -> dict:
    if not path.is_file():
        if explicit:
            raise DocgenError(f"config file not found: {path}")
        return {}
    import tomllib                      # only when there is a file: a render without one skips the import

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DocgenError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("model", {})
    if not isinstance(table, dict):
        raise DocgenError(f"{path}: [model] must be a table")
    out = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in _FIELDS:
            raise DocgenError(f"{path}: [model] {key}: unknown setting (known: {', '.join(sorted(_FIELDS))})")
        out[name] = _coerce(name, value, source=f"{path}: [model] {key}")
    return out


def choose_memory_mode(free_vram_bytes: int | None, host_ram_bytes: int, has_df11: bool,
                       size: tuple[int, int] = (1328, 1328)) -> str:
    """The memory mode ``auto`` picks: the fastest mode whose planned peaks fit this free VRAM and this
    available host RAM at ``size`` (:func:`docgen.regions.plan.choose`, margins included).

    No GPU (``free_vram_bytes`` None or 0) → ``none``: everything on the CPU, as the tests run.  When no
    mode fits, the planner's :class:`~docgen.errors.ModelError` names the shortfall and the cheapest
    change (more VRAM, more host RAM, or the DF11 download).
    """
    if not free_vram_bytes:
        return "none"
    from docgen.regions import plan as planner       # the memory planner: only where there is a GPU to plan for

    return planner.choose(free_vram_bytes / GB, host_ram_bytes / GB, df11=bool(has_df11),
                          size=(int(size[0]), int(size[1])))


def df11_offload_blocks(free_vram_bytes: int, host_ram_bytes: int, size: tuple[int, int] = (1328, 1328)) -> int:
    """How many of the 60 DF11 blocks ``dfloat11-offload`` keeps in pinned host memory (dfloat11's
    ``cpu_offload_blocks``): the planner's figure for this free VRAM; the rest stay on the GPU."""
    from docgen.regions import plan as planner

    estimate = planner.plan(free_vram_bytes / GB, host_ram_bytes / GB, size=(int(size[0]), int(size[1])),
                            df11=True).mode("dfloat11-offload")
    return estimate.offloaded_blocks


def choose_df11_cpu_offload(free_vram_bytes: int | None) -> bool:
    """DFloat11's own CPU offload is needed below ~31 GB free (the compressed transformer + activations)."""
    return not free_vram_bytes or free_vram_bytes < 31 * GB


def choose_batch_size(free_vram_bytes: int | None, memory_mode: str) -> int:
    """Regions denoised together: 1 unless everything is resident on a GPU with room to spare (≥ 40 GB)."""
    if not free_vram_bytes or memory_mode != "none" or free_vram_bytes < 40 * GB:
        return 1
    return 2
