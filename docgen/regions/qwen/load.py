"""Loading Qwen-Image: a :class:`~docgen.regions.config.ModelConfig` in, a ``QwenImagePipeline`` placed
on its device in the configured memory mode out, and the prompts' embeddings from it.

In the encode-once modes (``dfloat11-offload``, ``bf16-blockswap``) the pipeline is used in two phases:
the text encoder is loaded straight to its device (``device_map``, no host copy), every prompt of the
call is encoded in one pass (:meth:`LoadedPipeline.encode_prompts`), the encoder is deleted, and only
then does the DF11 transformer take its room on the GPU, block group by block group.

The same code path serves the real weights and the tiny random-weight pipeline the tests build.  One
pipeline per config per process (:func:`load_pipeline`); only the diffusers class is ever instantiated,
so a weights folder cannot bring its own code.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from docgen.errors import ModelError
from docgen.regions.config import (
    ModelConfig,
    choose_batch_size,
    choose_df11_cpu_offload,
    df11_offload_blocks,
)
from docgen.regions.qwen.memory import (
    ENCODE_ONCE_MODES,
    free_vram_bytes,
    host_ram_bytes,
    import_dfloat11,
    largest_size,
    package_version,
    place_pipeline,
    resolve_device,
    resolve_dtype,
    resolve_memory_mode,
    text_encoder_device,
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


# Embeddings kept per pipeline in the encode-once modes, so an OCR retry (same prompt, new seed) needs no
# encoder; a few MB each on the GPU.
EMBEDDINGS_KEPT = 256


@dataclass
class LoadedPipeline:
    """A QwenImagePipeline placed on its device, and what the backend needs to know about how."""

    pipe: Any
    device: str                 # where the denoising runs ("cuda", "cpu")
    dtype: Any                  # torch dtype of the weights
    memory_mode: str            # one of docgen.regions.config.MEMORY_MODES, never "auto"
    model_dir: Path
    revision: str | None
    lora: Path | None = None
    batch_size: int = 1
    notes: list[str] = field(default_factory=list)
    # dfloat11-offload: builds the transformer once the text encoder has left the GPU.
    pending_transformer: Callable[[], Any] | None = None
    _embeddings: OrderedDict = field(default_factory=OrderedDict, repr=False)

    @property
    def execution_device(self):
        return self.pipe._execution_device

    @property
    def encodes_once(self) -> bool:
        """The text encoder is deleted after one pass: ask for every prompt a call may need at once."""
        return self.memory_mode in ENCODE_ONCE_MODES

    def encode_prompts(self, texts: Sequence[str], max_sequence_length: int) -> dict[str, tuple]:
        """``{text: (prompt_embeds, prompt_embeds_mask)}`` for every text, on the denoising device.

        Every text is encoded in one pass while the encoder is resident; then it leaves the GPU
        (:meth:`release_text_encoder`) and, in ``dfloat11-offload``, the transformer is loaded into the
        room it left.  A text first seen after the encoder was deleted loads it again, on the GPU if it
        fits beside the transformer, else on the CPU.
        """
        import torch

        wanted = list(dict.fromkeys(texts))
        missing = [t for t in wanted if t not in self._embeddings]
        found: dict[str, tuple] = {}
        if missing:
            if self.pipe.text_encoder is None:
                self._reload_text_encoder()
            device = self._encode_device()
            with torch.inference_mode():
                for text in missing:
                    embeds, mask = self.pipe.encode_prompt(prompt=[text], device=device,
                                                           max_sequence_length=max_sequence_length)
                    found[text] = (embeds.to(self.device), None if mask is None else mask.to(self.device))
        self.release_text_encoder()
        if self.encodes_once:
            for text, pair in found.items():
                self._embeddings[text] = pair
            while len(self._embeddings) > EMBEDDINGS_KEPT:
                self._embeddings.popitem(last=False)
            found.update({t: self._embeddings[t] for t in wanted if t not in found})
        if self.pending_transformer is not None:      # cleared only once built: a failure can be retried
            self.pipe.register_modules(transformer=self.pending_transformer())
            self.pending_transformer = None
        return {t: found[t] for t in wanted}

    def release_text_encoder(self) -> None:
        """After encoding: get the 7 B text encoder off the GPU before the transformer needs the room."""
        if self.memory_mode in ("model-offload", "dfloat11"):
            self.pipe.maybe_free_model_hooks()        # offloads every component back to the CPU
        elif self.encodes_once and self.pipe.text_encoder is not None:
            # Deleted, not parked on the CPU: a parked copy would hold 16.6 GB of host RAM for nothing.
            self.pipe.register_modules(text_encoder=None)
            gc.collect()
            _empty_cuda_cache()
        # "none" keeps everything resident by definition; "group-offload" already streamed it out.

    def _encode_device(self):
        if self.encodes_once:
            return next(self.pipe.text_encoder.parameters()).device
        return self.execution_device

    def _reload_text_encoder(self) -> None:
        where = text_encoder_device(self.device, free_vram_bytes(self.device))
        self.pipe.register_modules(text_encoder=load_text_encoder(self.model_dir, self.dtype, where))
        self.notes.append(f"text encoder reloaded on {where} for prompts first seen after the first pass")


def _empty_cuda_cache() -> None:
    import torch
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


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
    if lora is not None and mode in ("dfloat11", "dfloat11-offload"):
        raise ModelError("the Lightning LoRA cannot be applied to DFloat11-compressed weights; "
                         "choose memory mode model-offload or bf16-blockswap, or unset DOCGEN_LIGHTNING_LORA.")
    if mode in ("dfloat11", "dfloat11-offload"):
        if dtype != torch.bfloat16:
            raise ModelError(f"memory mode {mode!r} runs in bfloat16 only; set dtype to bfloat16 or auto.")
        # Before the text encoder's 16.6 GB are read: dfloat11-offload builds its transformer only later.
        import_dfloat11()
        resolve_weights(config.df11_model, what="DFloat11 Qwen-Image", hint=f"hf download {config.df11_model}")

    from diffusers import QwenImagePipeline

    components: dict[str, Any] = {}
    notes: list[str] = []
    pending = None
    if mode == "dfloat11":
        components["transformer"] = _load_dfloat11_transformer(config, model_dir, device, notes)
    elif mode in ENCODE_ONCE_MODES:
        where = text_encoder_device(device, free, largest_size(config))
        components["text_encoder"] = load_text_encoder(model_dir, dtype, where)
        notes.append(f"text encoder on {where}, deleted after encoding")
        if mode == "dfloat11-offload":
            # Built after encoding, in the room the text encoder leaves: the planner's budget assumes it.
            components["transformer"] = None
            blocks = df11_offload_blocks(free or 0, host_ram_bytes(), largest_size(config))
            pending = functools.partial(_load_dfloat11_offload_transformer, config, model_dir, device, blocks, notes)

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
                          revision=revision, lora=lora, batch_size=batch, notes=notes, pending_transformer=pending)


def load_text_encoder(model_dir: Path, dtype, device: str):
    """Qwen2.5-VL loaded from its safetensors straight onto ``device`` (``device_map``): no full host copy
    first, and no accelerate hook left holding one afterwards."""
    from transformers import Qwen2_5_VLForConditionalGeneration

    try:
        encoder = Qwen2_5_VLForConditionalGeneration.from_pretrained(
            model_dir / "text_encoder", dtype=dtype, device_map={"": device}, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelError(f"could not load the Qwen-Image text encoder from {model_dir / 'text_encoder'}: {exc}\n"
                         f"  The download may be incomplete; re-run: {DOWNLOAD_HINT}") from None
    # device_map leaves accelerate's bookkeeping on the model; with one device nothing is offloaded, so
    # the hooks would only add a call per module.
    from accelerate.hooks import remove_hook_from_module
    remove_hook_from_module(encoder, recurse=True)
    return encoder.eval()


def _df11_skeleton(config: ModelConfig, model_dir: Path):
    """The transformer without its 41 GB of bf16 weights, the DF11 folder, and the names its files fill."""
    import torch
    from accelerate import init_empty_weights
    from diffusers import QwenImageTransformer2DModel

    df11_dir, _ = resolve_weights(config.df11_model, what="DFloat11 Qwen-Image",
                                  hint=f"hf download {config.df11_model}")
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
    return transformer, df11_dir, safetensors_keys(df11_dir)


def _check_filled(transformer, expected, df11_dir: Path) -> None:
    # Anything still a parameter that the DF11 files did not fill would be uninitialised memory.
    unfilled = [name for name, _ in transformer.named_parameters() if name not in expected]
    if unfilled:
        raise ModelError(f"the DFloat11 weights in {df11_dir} do not match this Qwen-Image transformer "
                         f"({len(unfilled)} tensors missing, e.g. {unfilled[0]}).")


def _load_dfloat11_transformer(config: ModelConfig, model_dir: Path, device: str, notes: list[str]):
    """The transformer skeleton filled from the DFloat11 files, whole (memory mode ``dfloat11``)."""
    dfloat11 = import_dfloat11()
    transformer, df11_dir, expected = _df11_skeleton(config, model_dir)
    cpu_offload = config.df11_cpu_offload
    if cpu_offload is None:
        cpu_offload = choose_df11_cpu_offload(free_vram_bytes(device))
    dfloat11.DFloat11Model.from_pretrained(str(df11_dir), device="cpu", bfloat16_model=transformer,
                                           cpu_offload=cpu_offload, pin_memory=True)
    _check_filled(transformer, expected, df11_dir)
    notes.append(f"dfloat11 {'with' if cpu_offload else 'without'} cpu_offload")
    return transformer.eval()


def _load_dfloat11_offload_transformer(config: ModelConfig, model_dir: Path, device: str, blocks: int,
                                       notes: list[str]):
    """The DF11 transformer on ``device`` with ``blocks`` of its blocks' compressed weights in pinned host
    memory (dfloat11's ``cpu_offload_blocks``), read shard by shard (memory mode ``dfloat11-offload``).

    ``DFloat11Model.from_pretrained`` reads every shard into host RAM and moves the model at the end, so
    the whole 28 GB would pass through the host.  Its own per-file loader (``load_and_replace_tensors``
    with ``from_single_file=True``, what ``from_single_file`` uses) is called one shard at a time instead,
    and what it left resident is moved to the GPU before the next shard is read.
    """
    import json

    import_dfloat11()
    import dfloat11.dfloat11 as df11_impl

    transformer, df11_dir, expected = _df11_skeleton(config, model_dir)
    try:
        df11_config = json.loads((df11_dir / "config.json").read_text("utf-8"))["dfloat11_config"]
    except (OSError, ValueError, KeyError):
        raise ModelError(f"{df11_dir}/config.json has no dfloat11_config; the DFloat11 download may be "
                         f"incomplete: hf download {config.df11_model}") from None
    parts = len(df11_impl.offloaded_tensor_names)
    offloaded = 0
    for shard in sorted(df11_dir.glob("*.safetensors")):
        left = max(0, blocks - offloaded)
        try:
            df11_impl.load_and_replace_tensors(transformer, str(shard), df11_config, cpu_offload=left > 0,
                                               cpu_offload_blocks=left, pin_memory=True, from_single_file=True)
        except TypeError as exc:        # another dfloat11 release with another loader signature
            raise ModelError(f"this dfloat11 ({package_version('dfloat11')}) has no per-file loader docgen "
                             f"can call ({exc}); memory mode 'dfloat11-offload' was written for "
                             f"dfloat11 0.5.") from None
        offloaded = sum(1 for m in transformer.modules() if len(getattr(m, "offloaded_tensors", {})) == parts)
        _move_buffers(transformer, device)
    _check_filled(transformer, expected, df11_dir)
    transformer.to(device)          # the small bf16 parameters; offloaded_tensors is a plain dict and stays
    notes.append(f"dfloat11 cpu_offload_blocks={offloaded} of {len(transformer.transformer_blocks)}")
    return transformer.eval()


def _move_buffers(model, device: str) -> None:
    """Every buffer still on the CPU to ``device`` (the compressed tensors of the resident blocks)."""
    for module in model.modules():
        for name, buffer in list(module._buffers.items()):
            if buffer is not None and buffer.device.type == "cpu" and not device.startswith("cpu"):
                module._buffers[name] = buffer.to(device)

