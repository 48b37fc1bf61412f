"""The ``qwen-image`` backend: region requests in, pictures from Qwen-Image (20 B MMDiT, via diffusers) out.

:class:`QwenImageBackend` does one job: for each request it builds the prompt (the user's prompt, the
text clause for text-bearing regions, the language's quality suffix), picks the Qwen-Image training
resolution closest in aspect, encodes every prompt first (so the 7 B text encoder is resident once and
then leaves the GPU), denoises the regions grouped by size, and centre-crops/resizes each picture to the
requested pixels.  torch and diffusers are imported inside functions, so ``import docgen`` stays light.
"""
from __future__ import annotations

import io
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from docgen.errors import ModelError
from docgen.regions.base import Capabilities, RegionImage, RegionRequest
from docgen.regions.config import ModelConfig
from docgen.regions.qwen.load import LIGHTNING_SCHEDULER, LoadedPipeline, load_pipeline
from docgen.regions.qwen.memory import (
    package_version,
    resolve_device,
    resolve_dtype,
    resolve_memory_mode,
)
from docgen.regions.qwen.weights import (
    DOWNLOAD_HINT,
    file_sha256,
    lightning_lora_path,
    resolve_weights,
    weights_fingerprint,
)

# Bump when anything here changes the pixels for the same request and weights (prompt wording,
# resolutions, resampling): it is part of the backend identity and so of every cache key.
BACKEND_VERSION = 1

# The resolutions Qwen-Image was trained at (model card): 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3.
QWEN_RESOLUTIONS: tuple[tuple[int, int], ...] = (
    (1328, 1328), (1664, 928), (928, 1664), (1472, 1104), (1104, 1472), (1584, 1056), (1056, 1584),
)

# The model card's "positive magic", appended to every prompt.
QUALITY_SUFFIX = {"zh": ", 超清，4K，电影级构图.", "en": ", Ultra HD, 4K, cinematic composition."}

MAX_SEQUENCE_LENGTH = 512

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
    capabilities = Capabilities(generative=True, verify_text=True, cacheable=True, shared_process=True,
                                placeholder=False)

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
            "versions": {d: package_version(d) for d in ("torch", "diffusers", "transformers")},
        }

    def _steps_and_cfg(self, lora: Path | None) -> tuple[int, float]:
        if lora is not None:
            return self.config.lightning_steps, 1.0       # distilled: CFG off
        return self.config.steps, self.config.true_cfg_scale

    # -- generation ---------------------------------------------------------------------------
    def generate(self, requests: Sequence[RegionRequest]) -> list[RegionImage]:
        if not requests:
            return []
        loaded = load_pipeline(self.config)
        steps, cfg_scale = self._steps_and_cfg(loaded.lora)
        use_cfg = cfg_scale > 1.0
        jobs = [_Job(request=r, prompt=build_prompt(r),
                     negative=r.negative_prompt.strip() or self.config.negative_prompt,
                     size=generation_size(r.width, r.height, self.config.size_scale)) for r in requests]

        # 1. Every prompt through the text encoder while it is resident, then get it off the GPU.
        texts = {j.prompt for j in jobs} | ({j.negative for j in jobs} if use_cfg else set())
        if loaded.encodes_once:         # the encoder is deleted after this pass
            texts |= _fallback_texts(jobs, self.config, use_cfg)
        embeds = loaded.encode_prompts(sorted(texts), MAX_SEQUENCE_LENGTH)

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


def _fallback_texts(jobs: Sequence[_Job], config: ModelConfig, use_cfg: bool) -> set[str]:
    """The prompts OCR verification's last resort asks for (the picture without text,
    :func:`docgen.regions.verify.without_text`), so they are encoded in the same pass."""
    from docgen.regions.verify import without_text

    texts: set[str] = set()
    for job in jobs:
        if job.request.text:
            fallback = without_text(job.request)
            texts.add(build_prompt(fallback))
            if use_cfg:
                texts.add(fallback.negative_prompt.strip() or config.negative_prompt)
    return texts


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
