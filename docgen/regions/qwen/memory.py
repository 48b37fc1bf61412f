"""Memory modes of the Qwen-Image pipeline: a config and this machine in, a device, dtype, mode and
placement out.

``resolve_memory_mode`` turns ``memory_mode = "auto"`` into a mode with
:func:`docgen.regions.config.choose_memory_mode` (the memory planner) on this machine's free VRAM and
available host RAM; ``place_pipeline`` puts the components where the mode says (diffusers' documented
offloading APIs); ``text_encoder_device`` says whether the text encoder fits on the GPU for its one
pass.  dfloat11 is imported only on its GPU path, and every known import failure becomes a clear
message.  torch is imported inside the functions, never at module level.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
import os
import sys
import types

from docgen.errors import ModelError
from docgen.regions import plan as planner
from docgen.regions.config import ModelConfig, choose_memory_mode
from docgen.regions.qwen.weights import df11_weights


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


def largest_size(config: ModelConfig) -> tuple[int, int]:
    """The largest picture a render can ask for: every generation size is one of Qwen-Image's training
    resolutions scaled by ``size_scale``, and 1328² has the most latent tokens among them."""
    side = max(16, int(1328 * config.size_scale / 16 + 0.5) * 16)
    return side, side


def resolve_memory_mode(config: ModelConfig, device: str, size: tuple[int, int] | None = None) -> str:
    """The configured mode, or for ``auto`` :func:`choose_memory_mode` on this machine's numbers at
    ``size`` (default: :func:`largest_size`).  A machine where nothing fits is a ModelError naming the
    shortfall."""
    mode = config.memory_mode
    on_gpu = device.startswith("cuda")
    if mode == "auto":
        if not on_gpu:
            return "none"
        has_df11 = df11_weights(config) is not None and dfloat11_import_error() is None
        return choose_memory_mode(free_vram_bytes(device), host_ram_bytes(), has_df11,
                                  size=size or largest_size(config))
    if mode != "none" and not on_gpu:
        raise ModelError(f"memory mode {mode!r} needs a CUDA GPU, but the device is {device!r} "
                         f"(torch.cuda.is_available() is {_cuda_available()}). "
                         f"Use memory mode 'none' to run on the CPU, or run on a machine with an NVIDIA GPU.")
    return mode


def text_encoder_device(device: str, free_vram: int | None, size: tuple[int, int] = (1328, 1328)) -> str:
    """Where the text encoder runs its one encoding pass: ``device`` when the planned encode-phase peak
    (its weights, its activations, the CUDA context) fits the free VRAM with the planner's margin, else
    the CPU — slower (seconds per prompt) but it never takes room the transformer needs."""
    if not device.startswith("cuda") or free_vram is None:
        return device
    # Only the encode-phase VRAM items are read, and they depend on neither budget: host RAM is moot here.
    estimate = planner.plan(free_vram / planner.GB, 0.0, size=size).mode("bf16-blockswap")
    encode = sum(i.bytes for i in estimate.items
                 if i.memory == "vram" and i.counted and i.phase in ("all", "encode"))
    return device if encode + planner.VRAM_MARGIN_GB * planner.GB <= free_vram else "cpu"


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
                             f"transformers ({package_version('transformers')}) no longer has: upgrade dfloat11, or "
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


def package_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


# Modes that run the text encoder once, straight from disk to its device, and then delete it.
ENCODE_ONCE_MODES = ("dfloat11-offload", "bf16-blockswap")


def place_pipeline(pipe, mode: str, device: str) -> None:
    """Put the components where the memory mode says (diffusers' documented offloading APIs).

    In the encode-once modes the loader has already put the text encoder on its device (and, for
    ``dfloat11-offload``, the transformer comes after encoding); here only the VAE and, for
    ``bf16-blockswap``, the transformer's block swapping are set up.  No accelerate hook is installed in
    those modes: a hook keeps a host copy of what it offloads.
    """
    import torch

    if mode == "none":
        pipe.to(device)
    elif mode in ("model-offload", "dfloat11"):
        pipe.enable_model_cpu_offload(device=device)
    elif mode in ENCODE_ONCE_MODES:
        if mode == "bf16-blockswap" and pipe.transformer is not None:
            # The blocks stay in the mmapped safetensors pages from_pretrained left them in:
            # low_cpu_mem_usage=True keeps diffusers from pinning a host copy of all 41 GB, and pins each
            # block only while it is copied (reused from the caching host allocator's pool).
            onload = torch.device(device)
            pipe.transformer.enable_group_offload(onload_device=onload, offload_device=torch.device("cpu"),
                                                  offload_type="block_level", num_blocks_per_group=1,
                                                  use_stream=onload.type == "cuda", low_cpu_mem_usage=True)
        pipe.vae.to(device)
        # Tiled decoding: 256 px tiles instead of the whole 1328² picture's activations at once.
        pipe.vae.enable_tiling()
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
