"""Loading Qwen-Image: a :class:`~docgen.regions.config.ModelConfig` in, a ``QwenImagePipeline`` placed
on its device in the configured memory mode out.

The same code path serves the real weights and the tiny random-weight pipeline the tests build.  One
pipeline per config per process (:func:`load_pipeline`); only the diffusers class is ever instantiated,
so a weights folder cannot bring its own code.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docgen.errors import ModelError
from docgen.regions.config import (
    ModelConfig,
    choose_batch_size,
    choose_df11_cpu_offload,
)
from docgen.regions.qwen.memory import (
    place_pipeline,
    free_vram_bytes,
    import_dfloat11,
    resolve_device,
    resolve_dtype,
    resolve_memory_mode,
)
from docgen.regions.qwen.weights import (
    DOWNLOAD_HINT,
    check_pipeline_folder,
    safetensors_keys,
    lightning_lora_path,
    resolve_weights,
)

# Qwen-Image-Lightning's scheduler (its README): a fixed exponential shift of log 3, no terminal stretch.
LIGHTNING_SCHEDULER = {"base_shift": math.log(3), "max_shift": math.log(3), "shift_terminal": None,
                       "use_dynamic_shifting": True, "time_shift_type": "exponential"}


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


def _load(config: ModelConfig) -> LoadedPipeline:
    import torch

    device = resolve_device(config)
    mode = resolve_memory_mode(config, device)          # errors for GPU-only modes come before any I/O
    free = free_vram_bytes(device)                      # before the weights take their share
    dtype = resolve_dtype(config, device)
    model_dir, revision = resolve_weights(config.model, config.revision)
    check_pipeline_folder(model_dir)
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

    place_pipeline(pipe, mode, device)
    batch = config.batch_size or choose_batch_size(free, mode)
    return LoadedPipeline(pipe=pipe, device=device, dtype=dtype, memory_mode=mode, model_dir=model_dir,
                          revision=revision, lora=lora, batch_size=batch, notes=notes)


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
    expected = safetensors_keys(df11_dir)
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
