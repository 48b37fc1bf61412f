"""The memory planner: a machine (VRAM, host RAM), a picture size and the model's configs in, one
:class:`Plan` out — for every memory mode the predicted peak VRAM and peak host RAM, itemised by
component, each item with the one-line reason it costs what it costs — and :func:`choose`, the fastest
mode that fits.

Nothing here loads weights or needs a GPU.  Parameter counts come from the pipeline's own configs:

- no ``model_dir``: the bundled published Qwen/Qwen-Image configs in ``docgen/regions/configs/``, whose
  ``_param_counts`` were counted on the meta device when they were written (so ``docgen doctor --plan``
  works without torch; ``tests/test_plan.py`` recounts them on meta and must agree);
- ``model_dir``: that folder's ``{transformer,text_encoder,vae}/config.json``, the components built on the
  meta device (``accelerate.init_empty_weights``) and counted — this path needs torch, diffusers and
  transformers.

Units: sizes and budgets in decimal GB (10⁹ bytes, as ``nvidia-smi`` and ``free -g`` do not quite agree
on); pinned-memory rounding in powers of two bytes.  Every estimate states its formula in its reason.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from docgen.errors import ModelError

GB = 10**9
GiB = 2**30
BF16 = 2                                   # bytes per parameter in bfloat16

CONFIG_DIR = Path(__file__).with_name("configs")
COMPONENTS = ("transformer", "text_encoder", "vae")

# Modes, fastest first (expected time per picture at 1328², 50 steps, CFG on):
#   none             nothing moves;
#   dfloat11         DF11 decompression per block (a few % of a step) + one 28 GB transformer move per call;
#   model-offload    whole components move once per call (41 + 17 GB, seconds per picture);
#   dfloat11-offload N compressed blocks (0.47 GB each) cross PCIe from pinned memory on every forward pass;
#   bf16-blockswap   the swapped blocks (0.68 GB each, bf16) cross from pageable, mmapped memory every pass;
#   group-offload    every block of every component streams on every pass.
MODES = ("none", "dfloat11", "model-offload", "dfloat11-offload", "bf16-blockswap", "group-offload")
DF11_MODES = ("dfloat11", "dfloat11-offload")

VRAM_MARGIN_GB = 1.5       # allocator fragmentation, cuBLAS workspaces, other processes' small allocations
RAM_MARGIN_GB = 2.0        # the desktop, the page cache the kernel will not give up, docgen's own PDFs

CUDA_CONTEXT = int(0.75 * GB)              # CUDA context + cuBLAS/cuDNN handles (0.5–1 GB measured on Ampere+)
PROCESS_OVERHEAD = int(2.5 * GB)           # Python + torch + CUDA libraries + diffusers/transformers, resident
SHARD = 5 * GB                             # one safetensors shard of the published weights (≈ 5 GB each)

# DFloat11: the Linear weights of each transformer block are Huffman-coded as one unit.  Published
# Qwen-Image-DF11 is 28.4 GB against 40.9 GB of bf16: with the 0.08 GB of non-block bf16 tensors kept
# as is, the compressed linears take 1.389 bytes per parameter (ratio 0.6945 of bf16): 1 byte of sign and
# mantissa, 0.361 bytes of coded exponent, 0.028 bytes of gaps, output positions and lookup tables.
DF11_SIGN_MANTISSA = 1.0
DF11_EXPONENT = 0.361
DF11_AUX = 0.028
DF11_BYTES_PER_PARAM = DF11_SIGN_MANTISSA + DF11_EXPONENT + DF11_AUX
DF11_RATIO = DF11_BYTES_PER_PARAM / BF16

# Activations.  A Qwen-Image MMDiT block's peak is in its MLP: the residual stream, the modulated norm
# output, the 4·D up-projection and its GELU output, i.e. ≈ 10 tensors of width D per token in bf16.
# Attention (q, k, v, rotated q and k, output: 8·D) stays below that with SDPA's flash or memory-efficient
# kernels, which never build the S×S score matrix.
BLOCK_ACTIVATION_WIDTHS = 10
TEXT_TOKENS = 512                          # docgen encodes prompts with max_sequence_length = 512
TEXT_ENCODER_TOKENS = 1024 + 34            # the pipeline tokenises up to tokenizer_max_length + template
VAE_TILE = 256                             # diffusers' tile_sample_min_height/width for the Qwen-Image VAE
VAE_WIDTHS = 6                             # live full-resolution tensors in the decoder's last up block


@dataclass(frozen=True)
class Item:
    """One line of a plan: what holds memory, where, in which phase, how much and why."""

    component: str
    memory: str                 # "vram" or "ram"
    phase: str                  # "all", "load", "encode", "denoise" or "decode"
    bytes: int
    reason: str
    counted: bool = True        # False: reclaimable page cache, shown but not part of the peak


@dataclass(frozen=True)
class ModeEstimate:
    """A memory mode's predicted peaks on this machine, and whether it fits."""

    mode: str
    items: tuple[Item, ...]
    vram_peak: int
    vram_phase: str
    ram_peak: int
    ram_phase: str
    fits_vram: bool
    fits_ram: bool
    needs_df11: bool
    df11_missing: bool          # needs DF11 weights and the caller said there are none
    df11_assumed: bool          # needs DF11 weights and the caller did not say (df11=None)
    note: str = ""
    # dfloat11-offload: the blocks dfloat11 keeps in pinned host memory (its ``cpu_offload_blocks``);
    # bf16-blockswap: the blocks copied in from host memory on every pass; 0 for the other modes.
    offloaded_blocks: int = 0

    @property
    def fits(self) -> bool:
        return self.fits_vram and self.fits_ram and not self.df11_missing


@dataclass(frozen=True)
class Plan:
    vram_gb: float
    ram_gb: float
    size: tuple[int, int]
    df11: bool | None
    counts_source: str
    vram_margin_gb: float
    ram_margin_gb: float
    modes: tuple[ModeEstimate, ...]
    chosen: str | None
    refusal: str | None = None

    def mode(self, name: str) -> ModeEstimate:
        for m in self.modes:
            if m.mode == name:
                return m
        raise KeyError(name)


# --------------------------------------------------------------------------------------------
# Sizes of the model, from configs
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelSizes:
    """Parameter counts and the dimensions the activation formulas need."""

    counts: dict                # component -> the _param_counts dict (see count_parameters)
    hidden: int                 # transformer inner dim (heads × head dim)
    heads: int
    patch: int
    te_hidden: int
    te_intermediate: int
    te_vocab: int
    te_layers: int
    vae_base: int
    vae_mult: tuple[int, ...]
    shard: dict                 # component -> largest safetensors shard in bytes
    source: str


def _load_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _public(config: dict) -> dict:
    return {k: v for k, v in config.items() if not k.startswith("_")}


def bundled_configs() -> dict[str, dict]:
    """The bundled published configs (with their cached ``_param_counts``)."""
    return {c: _load_json(CONFIG_DIR / f"{c}.json") for c in COMPONENTS}


def count_parameters(configs: dict[str, dict] | None = None, model_dir: str | Path | None = None) -> dict:
    """Build the three components on the meta device and count: no weights are allocated.

    Returns, per component, ``total`` and a ``histogram`` {numel: how many tensors} (pinning rounds each
    tensor on its own), plus the block structure: the transformer's ``blocks``, ``per_block`` and
    ``per_block_linear`` (the Linear weights DFloat11 compresses); the text encoder's ``layers``,
    ``per_layer``, ``embed``, ``lm_head`` and ``vision``; the VAE's ``decoder`` and ``encoder``.
    """
    try:
        import torch
        from accelerate import init_empty_weights
        from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
        from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    except ImportError as exc:
        raise ModelError(f"counting a model folder's parameters needs torch, diffusers, transformers and "
                         f"accelerate ({exc}); without them the planner uses the bundled Qwen-Image counts "
                         f"(leave model_dir unset).") from None

    with init_empty_weights():
        if model_dir is not None:
            folder = Path(model_dir)
            tr = QwenImageTransformer2DModel.from_config(
                QwenImageTransformer2DModel.load_config(folder / "transformer", local_files_only=True))
            vae = AutoencoderKLQwenImage.from_config(
                AutoencoderKLQwenImage.load_config(folder / "vae", local_files_only=True))
            te_config = Qwen2_5_VLConfig.from_pretrained(folder / "text_encoder", local_files_only=True)
        else:
            configs = configs or bundled_configs()
            tr = QwenImageTransformer2DModel.from_config(_public(configs["transformer"]))
            vae = AutoencoderKLQwenImage.from_config(_public(configs["vae"]))
            te_config = Qwen2_5_VLConfig(**_public(configs["text_encoder"]))
        te = Qwen2_5_VLForConditionalGeneration(te_config)

    def total(module) -> int:
        return sum(p.numel() for p in module.parameters())

    def histogram(module) -> dict[str, int]:
        hist: dict[int, int] = {}
        for p in module.parameters():
            hist[p.numel()] = hist.get(p.numel(), 0) + 1
        return {str(k): v for k, v in sorted(hist.items())}

    block = tr.transformer_blocks[0]
    lm = te.model.language_model
    return {
        "transformer": {
            "total": total(tr), "blocks": len(tr.transformer_blocks), "per_block": total(block),
            "per_block_linear": sum(m.weight.numel() for m in block.modules() if isinstance(m, torch.nn.Linear)),
            "histogram": histogram(tr),
        },
        "text_encoder": {
            "total": total(te), "layers": len(lm.layers), "per_layer": total(lm.layers[0]),
            "embed": total(lm.embed_tokens), "lm_head": total(te.lm_head), "vision": total(te.model.visual),
            "histogram": histogram(te),
        },
        "vae": {"total": total(vae), "decoder": total(vae.decoder), "encoder": total(vae.encoder),
                "histogram": histogram(vae)},
    }


def _largest_shard(folder: Path) -> int:
    sizes = [p.stat().st_size for p in folder.glob("*.safetensors")]
    return max(sizes) if sizes else 0


@lru_cache(maxsize=8)
def _sizes_for(model_dir: str | None) -> ModelSizes:
    if model_dir is None:
        configs = bundled_configs()
        counts = {c: configs[c]["_param_counts"] for c in COMPONENTS}
        shard = {c: SHARD for c in COMPONENTS}
        source = "bundled Qwen/Qwen-Image configs (counts cached in docgen/regions/configs, counted on meta)"
    else:
        folder = Path(model_dir)
        configs = {}
        for c in COMPONENTS:
            path = folder / c / "config.json"
            if not path.is_file():
                raise ModelError(f"{folder} is not a Qwen-Image pipeline folder: {path} is missing.")
            configs[c] = _load_json(path)
        counts = count_parameters(model_dir=folder)
        shard = {c: _largest_shard(folder / c) for c in COMPONENTS}
        source = f"configs of {folder}, counted on the meta device"
    t, e, v = configs["transformer"], configs["text_encoder"], configs["vae"]
    text = e.get("text_config") or e
    return ModelSizes(
        counts=counts, hidden=t.get("num_attention_heads", 24) * t.get("attention_head_dim", 128),
        heads=t.get("num_attention_heads", 24), patch=t.get("patch_size", 2),
        te_hidden=text.get("hidden_size", e.get("hidden_size")),
        te_intermediate=text.get("intermediate_size", e.get("intermediate_size")),
        te_vocab=text.get("vocab_size", e.get("vocab_size")),
        te_layers=text.get("num_hidden_layers", e.get("num_hidden_layers")),
        vae_base=v.get("base_dim", 96), vae_mult=tuple(v.get("dim_mult", (1, 2, 4, 4))),
        shard=shard, source=source)


# --------------------------------------------------------------------------------------------
# Formulas
# --------------------------------------------------------------------------------------------

def pinned_bytes(nbytes: int) -> int:
    """What one pinned allocation costs: PyTorch's CachingHostAllocator rounds each request up to the
    next power of two (``c10::llvm::PowerOf2Ceil`` in ATen/core/CachingHostAllocator.h)."""
    if nbytes <= 0:
        return 0
    return 1 << (int(nbytes) - 1).bit_length()


def pinned_histogram_bytes(histogram: dict, bytes_per_param: int = BF16) -> int:
    """Pinned cost of pinning every tensor of a histogram {numel: count} on its own."""
    return sum(pinned_bytes(int(numel) * bytes_per_param) * count for numel, count in histogram.items())


def latent_tokens(size: tuple[int, int]) -> int:
    """Image tokens of the MMDiT: the VAE downsamples 8×, the transformer patchifies 2×2: (H/16)·(W/16)."""
    width, height = size
    return (height // 16) * (width // 16)


def transformer_activation_bytes(s: ModelSizes, size: tuple[int, int], batch: int = 1) -> tuple[int, str]:
    seq = latent_tokens(size) + TEXT_TOKENS
    n = batch * seq * s.hidden * BLOCK_ACTIVATION_WIDTHS * BF16
    why = (f"{batch}×{seq} tokens ({latent_tokens(size)} latent + {TEXT_TOKENS} text) × D {s.hidden} × "
           f"{BLOCK_ACTIVATION_WIDTHS} live D-wide tensors (MLP peak) × 2 B; CFG runs cond and uncond as "
           f"separate passes, so it does not double the batch; SDPA flash/mem-efficient (no S² scores)")
    return n, why


def text_encoder_activation_bytes(s: ModelSizes) -> tuple[int, str]:
    t = TEXT_ENCODER_TOKENS
    widths = (s.te_layers + 1) * s.te_hidden + 3 * s.te_intermediate + s.te_vocab
    n = t * widths * BF16
    why = (f"{t} tokens × ({s.te_layers + 1} kept hidden states × {s.te_hidden} + 3 × {s.te_intermediate} MLP "
           f"+ {s.te_vocab} logits) × 2 B, one prompt per call")
    return n, why


def vae_decode_bytes(s: ModelSizes, size: tuple[int, int], tiled: bool) -> tuple[int, str]:
    width, height = size
    channels = s.vae_base * (s.vae_mult[1] if len(s.vae_mult) > 1 else s.vae_mult[0])
    if not tiled:
        n = VAE_WIDTHS * width * height * channels * BF16
        return n, (f"untiled: {VAE_WIDTHS} live tensors × {width}×{height} px × {channels} channels "
                   f"(last up block, causal-conv cache included) × 2 B")
    tw, th = min(width, VAE_TILE), min(height, VAE_TILE)
    n = VAE_WIDTHS * tw * th * channels * BF16 + 2 * 3 * width * height * BF16
    return n, (f"tiled ({VAE_TILE} px tiles): {VAE_WIDTHS} × {tw}×{th} × {channels} × 2 B per tile "
               f"+ the decoded tiles and the blended picture (2 × 3×{width}×{height} × 2 B)")


# --------------------------------------------------------------------------------------------
# The modes
# --------------------------------------------------------------------------------------------

class _Items:
    def __init__(self):
        self.items: list[Item] = []

    def vram(self, component, phase, n, reason, counted=True):
        self.items.append(Item(component, "vram", phase, int(n), reason, counted))

    def ram(self, component, phase, n, reason, counted=True):
        self.items.append(Item(component, "ram", phase, int(n), reason, counted))


def _gb(n: float) -> str:
    return f"{n / GB:.2f} GB"


def peak(items: Iterable[Item], memory: str) -> tuple[int, str]:
    """The largest sum over phases; items of phase "all" count in every phase."""
    items = [i for i in items if i.memory == memory and i.counted]
    totals = {phase: sum(i.bytes for i in items if i.phase in ("all", phase))
              for phase in ("load", "encode", "denoise", "decode")}
    best = max(totals.values())
    where = [phase for phase, total in totals.items() if total == best]
    return best, "all" if len(where) == len(totals) else where[0]


def _weights(s: ModelSizes, component: str) -> int:
    return s.counts[component]["total"] * BF16


def _common(out: _Items) -> None:
    out.vram("CUDA context", "all", CUDA_CONTEXT, "CUDA context, cuBLAS/cuDNN handles and kernels (0.5–1 GB)")
    out.ram("process", "all", PROCESS_OVERHEAD, "Python, torch, CUDA libraries, diffusers, transformers")


def _w_reason(s: ModelSizes, component: str, how: str) -> str:
    return f"{s.counts[component]['total'] / 1e9:.3f} B params × 2 B (bf16), {how}"


def _page_cache(out: _Items, s: ModelSizes, component: str, phase: str = "load") -> None:
    out.ram(f"{component} page cache", phase, s.shard[component],
            "mmapped safetensors pages of the shard being read; reclaimable, so not in the peak", counted=False)


def _df11_block_parts(s: ModelSizes) -> dict[str, int]:
    lin = s.counts["transformer"]["per_block_linear"]
    return {"sign_mantissa": int(lin * DF11_SIGN_MANTISSA), "encoded_exponent": int(lin * DF11_EXPONENT),
            "gaps+positions+luts": int(lin * DF11_AUX)}


def _df11_sizes(s: ModelSizes) -> tuple[int, int, int]:
    """(compressed bytes of one block, bf16 bytes outside the compressed linears, total DF11 bytes)."""
    t = s.counts["transformer"]
    block = sum(_df11_block_parts(s).values())
    uncompressed = (t["total"] - t["blocks"] * t["per_block_linear"]) * BF16
    return block, uncompressed, t["blocks"] * block + uncompressed


def _mode_none(s, size, batch, out: _Items, ctx) -> str:
    act, act_why = transformer_activation_bytes(s, size, batch)
    te_act, te_why = text_encoder_activation_bytes(s)
    dec, dec_why = vae_decode_bytes(s, size, tiled=False)
    for c in COMPONENTS:
        out.vram(c, "all", _weights(s, c), _w_reason(s, c, "resident on the GPU"))
    out.vram("text encoder activations", "encode", te_act, te_why)
    out.vram("transformer activations", "denoise", act, act_why)
    out.vram("VAE decode", "decode", dec, dec_why)
    total = sum(_weights(s, c) for c in COMPONENTS)
    out.ram("weights (loading)", "load", total,
            "from_pretrained fills all three components in host RAM before pipe.to(cuda)")
    _page_cache(out, s, "transformer")
    return ""


def _mode_model_offload(s, size, batch, out: _Items, ctx) -> str:
    act, act_why = transformer_activation_bytes(s, size, batch)
    te_act, te_why = text_encoder_activation_bytes(s)
    dec, dec_why = vae_decode_bytes(s, size, tiled=False)
    out.vram("text_encoder", "encode", _weights(s, "text_encoder"),
             _w_reason(s, "text_encoder", "on the GPU only while encoding"))
    out.vram("text encoder activations", "encode", te_act, te_why)
    out.vram("transformer", "denoise", _weights(s, "transformer"),
             _w_reason(s, "transformer", "on the GPU only while denoising"))
    out.vram("transformer activations", "denoise", act, act_why)
    out.vram("vae", "decode", _weights(s, "vae"), _w_reason(s, "vae", "on the GPU only while decoding"))
    out.vram("VAE decode", "decode", dec, dec_why)
    for c in COMPONENTS:
        out.ram(c, "all", _weights(s, c), _w_reason(s, c, "pageable host copy between uses"))
    _page_cache(out, s, "transformer")
    return "enable_model_cpu_offload: one component on the GPU at a time"


def _mode_dfloat11(s, size, batch, out: _Items, ctx) -> str:
    act, act_why = transformer_activation_bytes(s, size, batch)
    te_act, te_why = text_encoder_activation_bytes(s)
    dec, dec_why = vae_decode_bytes(s, size, tiled=False)
    block, uncompressed, df11 = _df11_sizes(s)
    workspace = s.counts["transformer"]["per_block_linear"] * BF16
    out.vram("text_encoder", "encode", _weights(s, "text_encoder"),
             _w_reason(s, "text_encoder", "on the GPU only while encoding"))
    out.vram("text encoder activations", "encode", te_act, te_why)
    out.vram("transformer (DF11)", "denoise", df11,
             f"{s.counts['transformer']['blocks']} blocks × {_gb(block)} compressed "
             f"({DF11_BYTES_PER_PARAM:.3f} B/param, ratio {DF11_RATIO:.4f}) + {_gb(uncompressed)} bf16 "
             f"non-block tensors")
    out.vram("DF11 decompression buffer", "denoise", workspace,
             "one block's Linear weights decompressed to bf16 (shared buffer, the largest block)")
    out.vram("transformer activations", "denoise", act, act_why)
    out.vram("vae", "decode", _weights(s, "vae"), _w_reason(s, "vae", "on the GPU only while decoding"))
    out.vram("VAE decode", "decode", dec, dec_why)
    out.ram("transformer (DF11)", "all", df11, "compressed transformer's pageable host copy between calls")
    for c in ("text_encoder", "vae"):
        out.ram(c, "all", _weights(s, c), _w_reason(s, c, "pageable host copy between uses"))
    _page_cache(out, s, "transformer")
    return "DF11 transformer on the GPU while denoising; components model-offloaded between uses"


def _resident_blocks(budget: int, fixed: int, per_block: int, blocks: int) -> int:
    if per_block <= 0:
        return blocks
    return max(0, min(blocks, (budget - fixed) // per_block))


def _encode_pass(s, out: _Items) -> None:
    """The text encoder loaded straight to the GPU, every prompt encoded in one pass, then deleted."""
    te_act, te_why = text_encoder_activation_bytes(s)
    out.vram("text_encoder", "encode", _weights(s, "text_encoder"),
             _w_reason(s, "text_encoder", "loaded to the GPU (device_map), all prompts encoded, then deleted"))
    out.vram("text encoder activations", "encode", te_act, te_why)
    _page_cache(out, s, "text_encoder", "encode")


def _mode_dfloat11_offload(s, size, batch, out: _Items, ctx) -> str:
    t = s.counts["transformer"]
    act, act_why = transformer_activation_bytes(s, size, batch)
    dec, dec_why = vae_decode_bytes(s, size, tiled=True)
    block, uncompressed, _ = _df11_sizes(s)
    workspace = t["per_block_linear"] * BF16
    fixed = CUDA_CONTEXT + uncompressed + workspace + block + max(act, dec + _weights(s, "vae"))
    resident = _resident_blocks(ctx["budget"], fixed, block, t["blocks"])
    offloaded = t["blocks"] - resident
    _encode_pass(s, out)
    out.vram("transformer non-block + biases", "denoise", uncompressed,
             "embeddings, norms, biases, proj_out: bf16, never compressed")
    out.vram("transformer resident DF11 blocks", "denoise", resident * block,
             f"{resident} of {t['blocks']} blocks × {_gb(block)} compressed stay on the GPU "
             f"(as many as the {ctx['budget'] / GB:.1f} GB budget allows)")
    out.vram("DF11 decompression buffer", "denoise", workspace,
             "one block's Linear weights decompressed to bf16 (shared buffer)")
    if offloaded:
        out.vram("offloaded block in flight", "denoise", block,
                 "the compressed tensors of one offloaded block copied in for its forward, then freed")
    out.vram("transformer activations", "denoise", act, act_why)
    for phase in ("decode",):
        out.vram("transformer (kept)", phase, uncompressed + resident * block,
                 "the resident transformer stays on the GPU for the next picture")
        out.vram("vae", phase, _weights(s, "vae"), _w_reason(s, "vae", "on the GPU after the text encoder left"))
        out.vram("VAE decode", phase, dec, dec_why)
    parts = _df11_block_parts(s)
    raw = sum(parts.values())
    pinned = sum(pinned_bytes(n) for n in parts.values())
    detail = ", ".join(f"{k} {n / 2**20:.0f}→{pinned_bytes(n) / 2**20:.0f} MiB" for k, n in parts.items())
    out.ram("pinned DF11 blocks", "all", offloaded * pinned,
            f"{offloaded} blocks × {_gb(pinned)} pinned (raw {_gb(raw)}): each block's tensors pinned one by one "
            f"and rounded up to a power of two ({detail})")
    out.ram("DF11 shard being loaded", "load", s.shard["transformer"],
            "safetensors load_file copies a whole shard into host RAM before its tensors are pinned or moved; "
            "needs the loader to move resident blocks to the GPU shard by shard")
    _page_cache(out, s, "transformer")
    ctx["offloaded"] = offloaded
    return f"cpu_offload_blocks={offloaded}: {resident} of {t['blocks']} DF11 blocks on the GPU; VAE tiled"


def _mode_bf16_blockswap(s, size, batch, out: _Items, ctx) -> str:
    t = s.counts["transformer"]
    act, act_why = transformer_activation_bytes(s, size, batch)
    dec, dec_why = vae_decode_bytes(s, size, tiled=True)
    block = t["per_block"] * BF16
    non_block = (t["total"] - t["blocks"] * t["per_block"]) * BF16
    fixed = CUDA_CONTEXT + non_block + 2 * block + max(act, dec + _weights(s, "vae"))
    resident = _resident_blocks(ctx["budget"], fixed, block, t["blocks"])
    swapped = t["blocks"] - resident
    _encode_pass(s, out)
    out.vram("transformer non-block", "denoise", non_block, "embeddings, norms, proj_out in bf16")
    out.vram("transformer resident blocks", "denoise", resident * block,
             f"{resident} of {t['blocks']} bf16 blocks × {_gb(block)} stay on the GPU")
    if swapped:
        out.vram("swap buffers", "denoise", 2 * block,
                 "two block buffers: the running block and the next one being copied in")
    out.vram("transformer activations", "denoise", act, act_why)
    out.vram("transformer (kept)", "decode", non_block + resident * block,
             "the resident blocks stay on the GPU for the next picture")
    out.vram("vae", "decode", _weights(s, "vae"), _w_reason(s, "vae", "on the GPU after the text encoder left"))
    out.vram("VAE decode", "decode", dec, dec_why)
    if swapped:
        out.ram("blocks in flight (mmap)", "denoise", 2 * block,
                "pages of the two blocks being copied must be resident (pageable, not pinned)")
        out.ram("swapped blocks page cache", "denoise", swapped * block,
                f"{swapped} blocks read from the mmapped safetensors; reclaimable: with less RAM they are "
                f"re-read from disk every pass (slower, never out of memory)", counted=False)
    _page_cache(out, s, "transformer", "load")
    ctx["offloaded"] = swapped
    return f"{swapped} of {t['blocks']} bf16 blocks swapped in from mmapped safetensors each pass"


def _mode_group_offload(s, size, batch, out: _Items, ctx) -> str:
    t, e = s.counts["transformer"], s.counts["text_encoder"]
    act, act_why = transformer_activation_bytes(s, size, batch)
    te_act, te_why = text_encoder_activation_bytes(s)
    dec, dec_why = vae_decode_bytes(s, size, tiled=False)
    te_other = (e["embed"] + e["lm_head"]) * BF16
    out.vram("text encoder groups", "encode", 2 * e["per_layer"] * BF16 + te_other,
             "two decoder layers (running + prefetched) + embed_tokens and lm_head (outside the layer lists)")
    out.vram("text encoder activations", "encode", te_act, te_why)
    out.vram("transformer groups", "denoise",
             2 * t["per_block"] * BF16 + (t["total"] - t["blocks"] * t["per_block"]) * BF16,
             "two blocks (running + prefetched on a side stream) + the non-block modules")
    out.vram("transformer activations", "denoise", act, act_why)
    vae_biggest = max(int(k) for k in s.counts["vae"]["histogram"]) * BF16
    out.vram("vae leaves", "decode", 2 * vae_biggest, "leaf-level: the running layer and the prefetched one")
    out.vram("VAE decode", "decode", dec, dec_why)
    for c in COMPONENTS:
        raw = _weights(s, c)
        pinned = pinned_histogram_bytes(s.counts[c]["histogram"])
        out.ram(f"{c} (pinned)", "all", pinned,
                f"every parameter pinned as its own tensor (diffusers' group offloading), each rounded up to a "
                f"power of two: {_gb(raw)} raw → {_gb(pinned)}")
    _page_cache(out, s, "transformer")
    return "block-level groups of one block, streamed on a side stream"


_BUILDERS = {
    "none": _mode_none,
    "dfloat11": _mode_dfloat11,
    "model-offload": _mode_model_offload,
    "dfloat11-offload": _mode_dfloat11_offload,
    "bf16-blockswap": _mode_bf16_blockswap,
    "group-offload": _mode_group_offload,
}


# --------------------------------------------------------------------------------------------
# Plan and choose
# --------------------------------------------------------------------------------------------

def plan(vram_gb: float, ram_gb: float, size: tuple[int, int] = (1328, 1328), model_dir: str | Path | None = None,
         df11: bool | None = None, *, batch: int = 1, vram_margin_gb: float = VRAM_MARGIN_GB,
         ram_margin_gb: float = RAM_MARGIN_GB) -> Plan:
    """Every memory mode's predicted peaks for a machine with ``vram_gb`` of GPU memory and ``ram_gb`` of
    host RAM, and the mode :func:`choose` would pick (``chosen``; None with ``refusal`` saying why).

    ``df11``: whether DFloat11 weights are available; None assumes they are and marks the rows that do.
    """
    width, height = int(size[0]), int(size[1])
    if width <= 0 or height <= 0 or width % 16 or height % 16:
        raise ModelError(f"picture size {width}×{height}: Qwen-Image needs positive multiples of 16.")
    s = _sizes_for(None if model_dir is None else str(Path(model_dir).resolve()))
    vram_budget = int((vram_gb - vram_margin_gb) * GB)
    ram_budget = int((ram_gb - ram_margin_gb) * GB)
    estimates = []
    for mode in MODES:
        out = _Items()
        _common(out)
        ctx = {"budget": vram_budget}
        note = _BUILDERS[mode](s, (width, height), batch, out, ctx)
        vpeak, vphase = peak(out.items, "vram")
        rpeak, rphase = peak(out.items, "ram")
        needs = mode in DF11_MODES
        estimates.append(ModeEstimate(
            mode=mode, items=tuple(out.items), vram_peak=vpeak, vram_phase=vphase, ram_peak=rpeak,
            ram_phase=rphase, fits_vram=vpeak <= vram_budget, fits_ram=rpeak <= ram_budget, needs_df11=needs,
            df11_missing=needs and df11 is False, df11_assumed=needs and df11 is None, note=note,
            offloaded_blocks=ctx.get("offloaded", 0)))
    chosen = next((m.mode for m in estimates if m.fits), None)
    result = Plan(vram_gb=vram_gb, ram_gb=ram_gb, size=(width, height), df11=df11, counts_source=s.source,
                  vram_margin_gb=vram_margin_gb, ram_margin_gb=ram_margin_gb, modes=tuple(estimates),
                  chosen=chosen)
    if chosen is None:
        result = Plan(**{**result.__dict__, "refusal": _refusal(result)})
    return result


def _shortfall(m: ModeEstimate, p: Plan) -> tuple[float, float]:
    vram = max(0.0, m.vram_peak / GB - (p.vram_gb - p.vram_margin_gb))
    ram = max(0.0, m.ram_peak / GB - (p.ram_gb - p.ram_margin_gb))
    return vram, ram


def _describe(m: ModeEstimate, p: Plan) -> str:
    vram, ram = _shortfall(m, p)
    needs = []
    if vram > 0:
        needs.append(f"{vram:.1f} GB more VRAM")
    if ram > 0:
        needs.append(f"{ram:.1f} GB more host RAM")
    if m.df11_missing:
        needs.append("DF11 weights")
    return f"{m.mode} needs " + " and ".join(needs)


def _refusal(p: Plan) -> str:
    # The cheapest change: the mode with the least missing memory; a missing download costs nothing.
    ranked = sorted(p.modes, key=lambda m: sum(_shortfall(m, p)))
    best = ranked[0]
    text = (f"no memory mode fits {p.vram_gb:g} GB of VRAM and {p.ram_gb:g} GB of host RAM at "
            f"{p.size[0]}×{p.size[1]} (margins {p.vram_margin_gb:g} GB VRAM, {p.ram_margin_gb:g} GB RAM): "
            f"the closest, {_describe(best, p)}")
    if p.df11 is False:
        df11_fit = [m for m in p.modes if m.df11_missing and m.fits_vram and m.fits_ram]
        if df11_fit:
            return text + f"; or download the DF11 weights (then {df11_fit[0].mode} fits)"
    others = [m for m in ranked[1:] if sum(_shortfall(m, p)) > 0 or m.df11_missing][:1]
    if others:
        text += f"; or {_describe(others[0], p)}"
    return text + ". A smaller picture size lowers activations only, not weights."


def choose(vram_gb: float, ram_gb: float, **kw: Any) -> str:
    """The fastest memory mode (order: :data:`MODES`) whose predicted peaks, plus the margins, fit both
    VRAM and host RAM.  Raises :class:`ModelError` naming the shortfall when none does."""
    result = plan(vram_gb, ram_gb, **kw)
    if result.chosen is None:
        raise ModelError(result.refusal)
    return result.chosen


# --------------------------------------------------------------------------------------------
# Printing
# --------------------------------------------------------------------------------------------

def format_plan(p: Plan, verbose: bool = False) -> str:
    """The table (mode, peak VRAM, peak RAM, fits, chosen) and the itemisation of the chosen mode (all
    modes with ``verbose``)."""
    lines = [f"memory plan for {p.vram_gb:g} GB VRAM, {p.ram_gb:g} GB host RAM, {p.size[0]}×{p.size[1]} "
             f"(margins {p.vram_margin_gb:g} GB VRAM, {p.ram_margin_gb:g} GB RAM; modes fastest first)",
             f"counts: {p.counts_source}",
             f"{'mode':18s} {'peak VRAM':>10s} {'peak RAM':>10s}  {'fits':5s} {'chosen':6s} note"]
    for m in p.modes:
        fits = "yes" if m.fits else "no"
        why = []
        if not m.fits_vram:
            why.append("VRAM")
        if not m.fits_ram:
            why.append("RAM")
        if m.df11_missing:
            why.append("no DF11 weights")
        if m.df11_assumed:
            why.append("assumes DF11 weights")
        lines.append(f"{m.mode:18s} {m.vram_peak / GB:7.1f} GB {m.ram_peak / GB:7.1f} GB  {fits:5s} "
                     f"{'  *' if m.mode == p.chosen else '':6s} {'; '.join(why)}")
    if p.refusal:
        lines.append(f"refused: {p.refusal}")
    shown = p.modes if verbose else [m for m in p.modes if m.mode == p.chosen]
    for m in shown:
        lines.append("")
        lines.append(f"{m.mode}: peak VRAM {_gb(m.vram_peak)} ({m.vram_phase}), peak RAM {_gb(m.ram_peak)} "
                     f"({m.ram_phase}){' — ' + m.note if m.note else ''}")
        for memory in ("vram", "ram"):
            for i in m.items:
                if i.memory == memory:
                    flag = "" if i.counted else " (not counted)"
                    lines.append(f"  {memory.upper():4s} {i.phase:7s} {i.bytes / GB:7.2f} GB  {i.component}"
                                 f"{flag}: {i.reason}")
    return "\n".join(lines)
