"""The ``qwen-image`` backend: region requests in, pictures from Qwen-Image (20 B MMDiT, via diffusers) out.

:class:`QwenImageBackend` does one job: for each request it builds the prompt (the user's prompt, the
text clause for text-bearing regions, the language's quality suffix), picks the Qwen-Image training
resolution closest in aspect, encodes every prompt first (so the 7 B text encoder is resident once and
then leaves the GPU), denoises the regions grouped by size, and centre-crops/resizes each picture to the
requested pixels.  torch and diffusers are imported inside functions, so ``import docgen`` stays light.

Nothing silent: settings Qwen-Image cannot run (float16, step counts that break the scheduler) are
refused before loading; a broken weights folder is a :class:`ModelError` naming the file; a decoded
picture holding NaN/Inf or one flat colour is retried with another seed, then refused — so it is never
cached and never labelled as AI content.  The raw picture (at the training resolution for the aspect)
is what the cache keeps; :meth:`QwenImageBackend.fit` crops it to each frame.
"""
from __future__ import annotations

import io
import json
import math
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from docgen.errors import ModelError
from docgen.regions.base import Capabilities, RegionImage, RegionRequest
from docgen.regions.config import ModelConfig
from docgen.regions.qwen.weights import (
    DOWNLOAD_HINT,
    check_components,
    check_configs_match_weights,
    check_df11_weights,
    df11_weights,
    file_sha256,
    lightning_lora_path,
    resolve_weights,
    weights_fingerprint,
)

if TYPE_CHECKING:
    from docgen.regions.qwen.load import LoadedPipeline

# The loader (.load) and the memory rules (.memory, with the planner) are imported where they are used: a
# machine without the weights learns that from .weights alone (backend auto: the draft pictures' path).


# Bump when anything here changes the pixels for the same request and weights (prompt wording,
# resolutions, resampling): it is part of the backend identity and so of every cache key.
BACKEND_VERSION = 2          # 2: the text clause leads the prompt; no-lettering clause without CFG

# The resolutions Qwen-Image was trained at (model card): 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3.
QWEN_RESOLUTIONS: tuple[tuple[int, int], ...] = (
    (1328, 1328), (1664, 928), (928, 1664), (1472, 1104), (1104, 1472), (1584, 1056), (1056, 1584),
)

# The model card's "positive magic", appended to every prompt.
QUALITY_SUFFIX = {"zh": ", 超清，4K，电影级构图.", "en": ", Ultra HD, 4K, cinematic composition."}

MAX_SEQUENCE_LENGTH = 512    # the text encoder's window as the pipeline uses it: later tokens are dropped

# Without CFG (the Lightning LoRA) a negative prompt is ignored, so "no lettering" is asked positively.
NO_LETTERING_CLAUSE = {"zh": "画面中没有任何文字、字母、水印或标志。",
                       "en": "No text, letters, watermark or logo anywhere. "}

# A decoded picture with NaN/Inf or one flat colour is retried this many times with another seed.
BAD_PICTURE_RETRIES = 2
_RETRY_SEED_STEP = 7_919     # retry k uses seed + k·7919: far from the OCR retries' seed + 1000·k

# --------------------------------------------------------------------------------------------
# Prompt and size rules (pure)
# --------------------------------------------------------------------------------------------
def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    if scale == 1.0:
        return size
    return tuple(max(16, int(v * scale / 16 + 0.5) * 16) for v in size)  # type: ignore[return-value]


def generation_size(width: int, height: int, scale: float = 1.0) -> tuple[int, int]:
    """The training resolution closest in aspect to ``width``×``height`` (scaled, multiples of 16).

    A size that already is one (scaled) is kept, so the raw picture's own size maps to itself."""
    sizes = [_scaled(wh, scale) for wh in QWEN_RESOLUTIONS]
    if (width, height) in sizes:
        return width, height
    target = math.log(width / height)
    best = min(QWEN_RESOLUTIONS, key=lambda wh: (abs(math.log(wh[0] / wh[1]) - target), wh))
    return _scaled(best, scale)


def fit_to(image, width: int, height: int):
    """Centre-crop ``image`` (PIL) to the target aspect, then resize with Lanczos to ``width``×``height``."""
    from PIL import Image, ImageOps

    if image.size == (width, height):
        return image
    return ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))


def _lang(language: str) -> str:
    return "zh" if language.lower().startswith("zh") else "en"


def text_clause(text: Sequence[tuple[str, str]], language: str) -> str:
    """The sentence asking for the region's text, in the document's language (it leads the prompt)."""
    if not text:
        return ""
    if _lang(language) == "zh":
        return "画面中清晰地写着" + "和".join(f"“{t}”" for _, t in text) + "。"
    return "Clearly written text: " + " and ".join(f'"{t}"' for _, t in text) + ". "


def build_prompt(request: RegionRequest, with_text: bool = True, cfg: bool = True) -> str:
    """Text clause (if asked for) + user prompt + the language's quality suffix.

    The text clause comes first: the pipeline keeps only the first 512 tokens of a prompt, and the
    lettering a picture must carry is what may not be lost.  A no-lettering request run without CFG
    (where a negative prompt does nothing) asks for no lettering in the prompt itself.
    """
    lang = _lang(request.language)
    prompt = request.prompt.strip().rstrip("。.，,")
    lead = text_clause(request.text, request.language) if with_text else ""
    if request.no_lettering and not cfg:
        lead += NO_LETTERING_CLAUSE[lang]
    return lead + prompt + QUALITY_SUFFIX[lang]


def check_steps(scheduler_config: dict, steps: int) -> None:
    """Refuse a step count the scheduler cannot run: its sigmas must all be finite.

    With Qwen-Image's ``shift_terminal`` one step divides by zero (the stretch to the terminal value
    scales by ``1 − σ_last`` = 0) and every pixel comes out black; the check runs the scheduler's own
    arithmetic, as the pipeline calls it, on the CPU.
    """
    import numpy as np
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler

    scheduler = FlowMatchEulerDiscreteScheduler.from_config(scheduler_config)
    sigmas = np.linspace(1.0, 1 / steps, steps)
    mu = None
    if scheduler.config.get("use_dynamic_shifting"):
        mu = scheduler.config.get("base_shift", 0.5)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            scheduler.set_timesteps(sigmas=sigmas, mu=mu, device="cpu")
        ok = bool(torch.isfinite(scheduler.sigmas).all())
    except (ZeroDivisionError, ValueError, RuntimeError):
        ok = False
    if not ok:
        raise ModelError(f"steps: {steps} step{'s' if steps != 1 else ''} cannot run with this scheduler "
                         f"(its sigmas become NaN — a division by zero — and every picture would be black); "
                         f"use at least 2 (Qwen-Image's default is 50).")


def picture_problem(array) -> str | None:
    """Why a decoded picture (float array in [0, 1], H×W×C) is not a picture, or None if it is one."""
    import numpy as np

    if not np.isfinite(array).all():
        return "NaN/Inf values"
    if float(array.max() - array.min()) < 1.5 / 255:
        return "one flat colour"
    return None


def _to_pil(array):
    """A decoded float picture → PIL, rounding as diffusers' ``numpy_to_pil`` does (same bytes)."""
    import numpy as np
    from PIL import Image

    return Image.fromarray((array * 255).round().astype(np.uint8))


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
        check_settings(cfg)
        from docgen.regions.qwen.memory import resolve_device, resolve_memory_mode

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
            from docgen.regions.qwen.load import LIGHTNING_SCHEDULER

            scheduler.update(LIGHTNING_SCHEDULER)
        steps, cfg_scale = self._steps_and_cfg(lora)
        check_steps(scheduler, steps)
        df11 = None
        if resolve_memory_mode(cfg, device) == "dfloat11":
            # Bit-identical by design, but a DF11 folder is its own file set: its identity is in the key.
            folder = df11_weights(cfg)
            df11 = {"model": cfg.df11_model, "weights": weights_fingerprint(folder) if folder else None}
        from docgen.regions.qwen.memory import package_version, resolve_dtype

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
            "df11": df11,
            "versions": {d: package_version(d) for d in ("torch", "diffusers", "transformers")},
        }

    def _steps_and_cfg(self, lora: Path | None) -> tuple[int, float]:
        if lora is not None:
            return self.config.lightning_steps, 1.0       # distilled: CFG off
        return self.config.steps, self.config.true_cfg_scale

    # -- generation ---------------------------------------------------------------------------
    # -- the raw picture and its fit to a frame (the cache keeps the raw one) ---------------------
    def raw_size(self, request: RegionRequest) -> tuple[int, int]:
        """The size the picture is generated at: it depends on the frame's aspect, not its pixels."""
        return generation_size(request.width, request.height, self.config.size_scale)

    def fit(self, image: RegionImage, request: RegionRequest) -> RegionImage:
        """A raw picture centre-cropped and resized to ``request``'s pixels (a frame, an edition)."""
        from PIL import Image

        info = {**image.info, "region_id": request.region_id}
        if (image.width, image.height) == (request.width, request.height):
            return RegionImage(png=image.png, width=image.width, height=image.height, backend=image.backend,
                               info=info, overlay_text=dict(image.overlay_text), placeholder=image.placeholder)
        picture = fit_to(Image.open(io.BytesIO(image.png)).convert("RGB"), request.width, request.height)
        return RegionImage(png=_png_bytes(picture), width=request.width, height=request.height,
                           backend=image.backend, info=info, overlay_text=dict(image.overlay_text),
                           placeholder=image.placeholder)

    # -- generation ---------------------------------------------------------------------------
    def pipeline(self) -> LoadedPipeline:
        """The process's pipeline for these weights, dtype and memory plan, after the folder is checked.

        Steps, CFG, the negative prompt, the OCR budget and the cache do not change what is loaded, so
        they are set to their defaults in the key: renders differing only in those share one pipeline.
        """
        cfg = self.config
        check_settings(cfg)
        model_dir, _ = resolve_weights(cfg.model, cfg.revision)
        checked = (str(model_dir), self.identity()["weights"])     # fingerprinted once per backend
        if checked not in _CHECKED:
            check_components(model_dir)
            check_configs_match_weights(model_dir)
            _CHECKED.add(checked)
        from docgen.regions.qwen.memory import resolve_device, resolve_memory_mode

        device = resolve_device(cfg)
        if resolve_memory_mode(cfg, device) == "dfloat11":
            df11_dir, _ = resolve_weights(cfg.df11_model, what="DFloat11 Qwen-Image",
                                          hint=f"hf download {cfg.df11_model}")
            check_df11_weights(df11_dir, model_dir)
        key = cfg.replace(**_LOAD_NEUTRAL)
        from docgen.regions.qwen.load import load_pipeline

        try:
            return load_pipeline(key)
        except ModelError:
            raise
        except Exception as exc:        # diffusers, transformers, safetensors, dfloat11: name what was loaded
            what = f"DFloat11 weights {cfg.df11_model} with " if cfg.memory_mode == "dfloat11" else ""
            raise ModelError(f"could not load {what}Qwen-Image from {model_dir} "
                             f"(memory mode {cfg.memory_mode}, dtype {cfg.dtype}): {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''}\n"
                             f"  Check that each component's config matches its weights, or download again: "
                             f"{DOWNLOAD_HINT}") from None

    def generate(self, requests: Sequence[RegionRequest]) -> list[RegionImage]:
        if not requests:
            return []

        self.identity()             # refuses a step count the scheduler cannot run, before loading
        loaded = self.pipeline()
        steps, cfg_scale = self._steps_and_cfg(loaded.lora)
        use_cfg = cfg_scale > 1.0
        jobs = [_Job(request=r, prompt=build_prompt(r, cfg=use_cfg),
                     negative=r.negative_prompt.strip() or self.config.negative_prompt,
                     size=generation_size(r.width, r.height, self.config.size_scale)) for r in requests]
        for job in jobs:
            self._warn_if_truncated(loaded, job)

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
        seeds: dict[int, int] = {i: job.request.seed for i, job in enumerate(jobs)}
        for batch in batches:
            arrays = self._denoise(loaded, [jobs[i] for i in batch], embeds, steps, cfg_scale, use_cfg)
            pictures.update(zip(batch, arrays))
        # 3. A picture that is not one (NaN/Inf, one flat colour) is tried again with other seeds, one
        #    region at a time, then refused: it must never reach the cache or carry the AI label.
        for i, job in enumerate(jobs):
            problem = picture_problem(pictures[i])
            for k in range(1, BAD_PICTURE_RETRIES + 1):
                if problem is None:
                    break
                seeds[i] = job.request.seed + k * _RETRY_SEED_STEP
                pictures[i] = self._denoise(loaded, [job], embeds, steps, cfg_scale, use_cfg, seeds=[seeds[i]])[0]
                problem = picture_problem(pictures[i])
            if problem is not None:
                raise ModelError(
                    f"{job.request.region_id or 'region'}: Qwen-Image produced a picture of {problem} "
                    f"{BAD_PICTURE_RETRIES + 1} times (seeds {job.request.seed} and retries) with dtype "
                    f"{str(loaded.dtype).removeprefix('torch.')}, {steps} steps, memory mode {loaded.memory_mode}; "
                    f"nothing was cached. Check the weights (docgen doctor) and the dtype (bfloat16 on a GPU).")

        # 4. Fit each picture to its region and record where it came from.
        out = []
        for i, job in enumerate(jobs):
            r = job.request
            picture = fit_to(_to_pil(pictures[i]).convert("RGB"), r.width, r.height)
            info = self._info(job, loaded, steps, cfg_scale)
            if seeds[i] != r.seed:
                info["denoise_seed"] = seeds[i]
            out.append(RegionImage(png=_png_bytes(picture), width=r.width, height=r.height, backend=self.name,
                                   info=info))
        self.generated += len(out)
        return out

    def _warn_if_truncated(self, loaded: LoadedPipeline, job: _Job) -> None:
        """Warn when a prompt is longer than the window the text encoder's output is cut to."""
        pipe = loaded.pipe
        template = getattr(pipe, "prompt_template_encode", "{}")
        drop = getattr(pipe, "prompt_template_encode_start_idx", 0)
        count = len(pipe.tokenizer(template.format(job.prompt)).input_ids) - drop
        if count > MAX_SEQUENCE_LENGTH:
            where = job.request.region_id or "a region"
            warnings.warn(f"{where}: the prompt is {count} tokens; the text encoder keeps the first "
                          f"{MAX_SEQUENCE_LENGTH}, so its end is dropped (the lettering clause comes first "
                          f"and is kept). Shorten the prompt.", UserWarning, stacklevel=3)

    def _denoise(self, loaded, batch: list[_Job], embeds, steps: int, cfg_scale: float, use_cfg: bool,
                 seeds: list[int] | None = None):
        """Decoded float pictures (H×W×C in [0, 1]), one per job, before any rounding."""
        import torch

        width, height = batch[0].size
        prompt_embeds, prompt_mask = _stack([embeds[j.prompt] for j in batch])
        kwargs: dict[str, Any] = {}
        if use_cfg:
            neg_embeds, neg_mask = _stack([embeds[j.negative] for j in batch])
            kwargs.update(negative_prompt_embeds=neg_embeds, negative_prompt_embeds_mask=neg_mask)
        # One CPU generator per region: the noise depends on the seed alone, not on the batch or device.
        seeds = seeds or [j.request.seed for j in batch]
        generators = [torch.Generator("cpu").manual_seed(s & 0xFFFF_FFFF_FFFF_FFFF) for s in seeds]
        label = ", ".join(j.request.region_id or "region" for j in batch)
        loaded.pipe.set_progress_bar_config(disable=not _stderr_is_tty(), desc=f"{label} {width}×{height}",
                                            leave=False)
        self.calls += 1
        result = loaded.pipe(prompt_embeds=prompt_embeds, prompt_embeds_mask=prompt_mask,
                             true_cfg_scale=cfg_scale, height=height, width=width,
                             num_inference_steps=steps, generator=generators, output_type="np", **kwargs)
        return list(result.images)

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


# Settings that do not change the loaded pipeline: set to one value in its key (see pipeline).
_LOAD_NEUTRAL = {"backend": "qwen-image", "steps": 50, "true_cfg_scale": 4.0, "negative_prompt": " ",
                 "lightning_steps": 8, "ocr_budget": 3, "ocr_threshold": 1.0, "size_scale": 1.0,
                 "cache_dir": "", "cache_max_bytes": 0}
_CHECKED: set[tuple[str, str]] = set()      # weights folders already checked in this process


def check_settings(config: ModelConfig) -> None:
    """Refuse settings Qwen-Image cannot run, with the reason, before anything is loaded."""
    if config.dtype == "float16":
        raise ModelError("dtype: float16 is refused — Qwen-Image's activations overflow float16 and every "
                         "picture comes out NaN (black). Use bfloat16 on a GPU (the default there) or float32.")


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
    check_settings(config)          # a refused setting is an error under auto too, never a silent draft
    if required:
        from docgen.regions.qwen.memory import resolve_device, resolve_memory_mode

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
    from docgen.regions.qwen.memory import resolve_device

    try:
        resolve_device(config)
    except ModelError as exc:
        return False, str(exc).splitlines()[0]
    return True, "ok"


def _fallback_texts(jobs: Sequence[_Job], config: ModelConfig, use_cfg: bool) -> set[str]:
    """The prompts OCR verification's last resort asks for (the picture without text,
    :func:`docgen.regions.verify.without_text`), so they are encoded in the same pass."""
    from docgen.regions.verify import without_text

    texts: set[str] = set()
    for job in jobs:
        if job.request.text:
            fallback = without_text(job.request)
            texts.add(build_prompt(fallback, cfg=use_cfg))
            if use_cfg:
                texts.add(fallback.negative_prompt.strip() or config.negative_prompt)
    return texts
