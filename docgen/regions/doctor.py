"""``docgen doctor`` for the image side: this machine and configuration in, a checklist out.

:func:`report` answers "can this machine generate pictures, and how?" without loading a model or
touching the network: GPU and free VRAM, host RAM, where the Qwen-Image weights were found (local
folder or the offline HF cache), whether dfloat11 imports (each known failure in plain words), whether
OCR is ready, which memory mode and backend ``auto`` would choose, and the image cache.
"""
from __future__ import annotations

from typing import Callable

from docgen.regions.config import ModelConfig, choose_memory_mode

OK, WARN, MISSING, INFO = "ok", "warn", "missing", "info"

Row = tuple[str, str, str]      # (item, status, detail)


def _gb(n: int | float) -> str:
    return f"{n / 1e9:.1f} GB"


def report(config: ModelConfig | None = None) -> list[Row]:
    """One row per item; a failing check becomes a row, never an exception."""
    config = config or ModelConfig.from_env()
    rows: list[Row] = []
    state: dict = {}
    for check in CHECKS:
        try:
            rows.extend(check(config, state))
        except Exception as exc:  # a doctor must not crash on the thing it diagnoses
            rows.append((check.__name__.strip("_"), WARN, f"check failed: {type(exc).__name__}: {exc}"))
    return rows


def _torch(config, state) -> list[Row]:
    try:
        import torch
    except ImportError:
        state["torch"] = None
        return [("torch", MISSING, "not installed: the qwen-image backend needs torch and diffusers")]
    state["torch"] = torch
    from docgen.regions.qwen import package_version
    return [("torch", OK, f"torch {torch.__version__}, diffusers {package_version('diffusers')}, "
                          f"transformers {package_version('transformers')}")]


def _gpu(config, state) -> list[Row]:
    torch = state.get("torch")
    state["free_vram"] = None
    if torch is None:
        return [("GPU", MISSING, "unknown (torch not installed)")]
    if not torch.cuda.is_available():
        return [("GPU", MISSING, f"no CUDA GPU visible to torch {torch.__version__}: the qwen-image backend "
                                 "would run on the CPU (hours per picture); draft art is used instead")]
    rows = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        free, total = torch.cuda.mem_get_info(index)
        if index == 0:
            state["free_vram"] = free
        rows.append((f"GPU {index}", OK, f"{props.name}, compute {props.major}.{props.minor}"))
        rows.append((f"VRAM {index}", OK, f"{_gb(free)} free of {_gb(total)}"))
    return rows


def _host_ram(config, state) -> list[Row]:
    from docgen.regions.qwen import host_ram_bytes
    state["host_ram"] = ram = host_ram_bytes()
    status = OK if ram >= 64e9 else WARN
    detail = f"{_gb(ram)} available"
    if status == WARN:
        detail += " (offloading Qwen-Image keeps ~58 GB of weights in host RAM; dfloat11 ~30 GB)"
    return [("host RAM", status, detail)]


def _weights(config, state) -> list[Row]:
    from docgen.errors import ModelError
    from docgen.regions.qwen import resolve_weights
    try:
        folder, revision = resolve_weights(config.model, config.revision)
    except ModelError as exc:
        state["weights"] = None
        return [("Qwen-Image weights", MISSING, str(exc))]
    state["weights"] = folder
    rev = f" (revision {revision})" if revision else ""
    return [("Qwen-Image weights", OK, f"{folder}{rev}")]


def _df11_weights(config, state) -> list[Row]:
    from docgen.regions.qwen import df11_weights
    folder = df11_weights(config)
    state["df11_weights"] = folder
    if folder is None:
        return [("DFloat11 weights", INFO, f"{config.df11_model} not found locally (optional: lets a 24–32 GB "
                                           f"GPU run the model; hf download {config.df11_model})")]
    return [("DFloat11 weights", OK, str(folder))]


def _dfloat11(config, state) -> list[Row]:
    from docgen.regions.qwen import dfloat11_import_error
    why = dfloat11_import_error()
    state["dfloat11"] = why is None
    return [("dfloat11", OK if why is None else INFO, "importable" if why is None else why)]


def _lora(config, state) -> list[Row]:
    from pathlib import Path
    if not config.lightning_lora:
        return [("Lightning LoRA", INFO, f"not configured ({config.steps} steps, CFG {config.true_cfg_scale})")]
    path = Path(config.lightning_lora).expanduser()
    if not path.is_file():
        return [("Lightning LoRA", WARN, f"configured but missing: {path} (generating with {config.steps} steps)")]
    return [("Lightning LoRA", OK, f"{path} ({config.lightning_steps} steps, CFG off)")]


def _ocr(config, state) -> list[Row]:
    from docgen.regions.verify import ocr_available
    ok, detail = ocr_available()
    if not ok:
        detail += "; text-bearing regions will be set as vector type over text-free pictures"
    return [("OCR", OK if ok else WARN, detail)]


def _memory_mode(config, state) -> list[Row]:
    if state.get("torch") is None:
        return [("memory mode", INFO, config.memory_mode)]
    free = state.get("free_vram")
    has_df11 = bool(state.get("df11_weights")) and bool(state.get("dfloat11"))
    if config.memory_mode != "auto":
        return [("memory mode", INFO, f"{config.memory_mode} (configured)")]
    mode = choose_memory_mode(free, state.get("host_ram", 0), has_df11)
    where = f"{_gb(free)} free VRAM" if free else "no GPU"
    return [("memory mode", INFO, f"auto → {mode} ({where}, dfloat11 {'usable' if has_df11 else 'not usable'})")]


def _backend(config, state) -> list[Row]:
    if config.backend == "draft":
        return [("backend", INFO, "draft (configured)")]
    from docgen.regions.qwen import qwen_image_available
    ok, why = qwen_image_available(config)
    if config.backend == "qwen-image":
        return [("backend", OK if ok else WARN, "qwen-image (configured)" + ("" if ok else f": {why}"))]
    return [("backend", INFO, "auto → qwen-image" if ok else f"auto → draft ({why})")]


def _cache(config, state) -> list[Row]:
    from docgen.regions.cache import RegionCache
    info = RegionCache.from_config(config).info()
    return [("image cache", INFO, f"{info.path}: {info.entries} pictures, {info.bytes / 1e6:.1f} MB "
                                  f"of {info.max_bytes / 1e9:.1f} GB")]


CHECKS: tuple[Callable, ...] = (_torch, _gpu, _host_ram, _weights, _df11_weights, _dfloat11, _lora, _ocr,
                                _memory_mode, _backend, _cache)


# --------------------------------------------------------------------------------------------
# docgen doctor --plan
# --------------------------------------------------------------------------------------------

def detect_machine() -> tuple[float | None, float | None, str]:
    """Free VRAM of GPU 0 and available host RAM in GB (None where unknown), and how they were found."""
    vram = None
    how = []
    try:
        import torch
    except ImportError:
        how.append("no GPU found (torch not installed)")
    else:
        if torch.cuda.is_available():
            free, total = torch.cuda.mem_get_info(0)
            vram = free / 1e9
            how.append(f"GPU 0 {torch.cuda.get_device_properties(0).name}: {free / 1e9:.1f} GB free "
                       f"of {total / 1e9:.1f} GB")
        else:
            how.append("no CUDA GPU found")
    from docgen.regions.qwen import host_ram_bytes
    ram = host_ram_bytes() / 1e9
    how.append(f"{ram:.1f} GB host RAM available")
    return vram, ram, "; ".join(how)


def parse_size(text: str) -> tuple[int, int]:
    """``1328x1328`` (or ``1328×1328``) → (width, height)."""
    from docgen.errors import SpecError
    parts = text.lower().replace("×", "x").split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise SpecError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1328x1328") from None
    return width, height


def plan_report(vram_gb: float | None = None, ram_gb: float | None = None, size: str | tuple[int, int] = "1328x1328",
                df11: bool | None = None, verbose: bool = False) -> str:
    """The planner's table for this machine (or the given figures) as text."""
    from docgen.regions.plan import format_plan, plan

    header = []
    if vram_gb is None or ram_gb is None:
        found_vram, found_ram, how = detect_machine()
        header.append(f"detected: {how}")
        vram_gb = found_vram if vram_gb is None else vram_gb
        ram_gb = found_ram if ram_gb is None else ram_gb
        if vram_gb is None:
            header.append("no GPU to plan for: pass --vram GB to plan for another machine")
            return "\n".join(header)
    width, height = parse_size(size) if isinstance(size, str) else size
    return "\n".join(header + [format_plan(plan(vram_gb, ram_gb, (width, height), df11=df11), verbose)])
