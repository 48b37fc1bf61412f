"""The ``qwen-image`` backend: region requests in, pictures from Qwen-Image (via diffusers) out.

One module per concern, in the order a picture needs them: :mod:`.weights` (where the weights are:
local folders and the local HF cache only, fingerprints), :mod:`.memory` (device, dtype, memory modes,
dfloat11, placement), :mod:`.load` (a config in, a placed ``QwenImagePipeline`` out, one per process)
and :mod:`.backend` (requests in, pictures out).  Importing this package imports no torch.
"""
from importlib import import_module as _import
from typing import TYPE_CHECKING

# name -> the submodule defining it; loaded at its first use, so that asking whether Qwen-Image can run here
# (``available_backend``: a few file checks when the weights are missing) imports neither the loader nor the
# memory planner
_HOME = {
    **dict.fromkeys(("QWEN_RESOLUTIONS", "QwenImageBackend", "available_backend", "build_prompt", "fit_to",
                     "generation_size", "qwen_image_available", "text_clause"), ".backend"),
    **dict.fromkeys(("LoadedPipeline", "load_pipeline", "unload_pipelines"), ".load"),
    **dict.fromkeys(("package_version", "dfloat11_import_error", "host_ram_bytes", "import_dfloat11",
                     "resolve_device", "resolve_memory_mode"), ".memory"),
    **dict.fromkeys(("df11_weights", "resolve_weights"), ".weights"),
}

if TYPE_CHECKING:
    from docgen.regions.qwen.backend import (
        QWEN_RESOLUTIONS,
        QwenImageBackend,
        available_backend,
        build_prompt,
        fit_to,
        generation_size,
        qwen_image_available,
        text_clause,
    )
    from docgen.regions.qwen.load import LoadedPipeline, load_pipeline, unload_pipelines
    from docgen.regions.qwen.memory import (
        dfloat11_import_error,
        host_ram_bytes,
        import_dfloat11,
        package_version,
        resolve_device,
        resolve_memory_mode,
    )
    from docgen.regions.qwen.weights import df11_weights, resolve_weights


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'docgen.regions.qwen' has no attribute {name!r}")
    value = getattr(_import(home, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "QWEN_RESOLUTIONS", "LoadedPipeline", "QwenImageBackend", "package_version", "available_backend", "build_prompt",
    "df11_weights", "dfloat11_import_error", "fit_to", "generation_size", "host_ram_bytes", "import_dfloat11",
    "load_pipeline", "qwen_image_available", "resolve_device", "resolve_memory_mode", "resolve_weights",
    "text_clause", "unload_pipelines",
]
