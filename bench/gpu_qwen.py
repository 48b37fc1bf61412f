"""Qwen-Image transformer throughput per memory mode, on one GPU, with random weights.

Builds the full-size QwenImageTransformer2DModel (60 blocks, 24 heads × 128, joint_attention_dim 3584,
in 64 / out 16, RoPE axes (16, 56, 56): 20.43 B parameters) from its config, with its parameters on the
meta device and materialised straight on the GPU in bfloat16 (no 41 GB pass through host RAM, no slow
CPU init), then times one classifier-free-guidance denoising step at 1328×1328 — two forwards, cond and
uncond, 6,889 image tokens and 128 text tokens each — in every memory mode docgen offers:

- ``none``           the transformer resident on the GPU
- ``model-offload``  accelerate's cpu_offload_with_hook, as ``enable_model_cpu_offload`` installs it: the
                     whole transformer moves in once per picture (reported as ``onload_s``) and stays
                     for the 50 steps
- ``group-offload``  diffusers' block-level group offload, one block at a time, ``use_stream=True``
- ``dfloat11``       only with ``--df11 FOLDER`` (DFloat11 weights) and an importable dfloat11; otherwise
                     "skipped: reason" — random weights cannot be DF11-compressed inside the time budget

and prints step time, achieved TFLOP/s (131.7 TFLOP per forward at 1328², from the count below), peak
VRAM and the ratio to ``none``.  No weights are needed.  Writes ``$OUT/gpu_qwen.json`` when ``OUT`` is
set.  Finishes inside 8 minutes on an H100/H200 (each mode is skipped once the deadline nears).

    python bench/gpu_qwen.py                      # the real size, on cuda
    python bench/gpu_qwen.py --tiny --device cpu  # a smoke run of the same code on a laptop
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

FULL = dict(patch_size=2, in_channels=64, out_channels=16, num_layers=60, attention_head_dim=128,
            num_attention_heads=24, joint_attention_dim=3584, axes_dims_rope=(16, 56, 56))
TINY = dict(patch_size=2, in_channels=64, out_channels=16, num_layers=2, attention_head_dim=16,
            num_attention_heads=2, joint_attention_dim=32, axes_dims_rope=(4, 6, 6))
TEXT_TOKENS = 128
DEADLINE_S = 7 * 60 + 30        # leave room for the report before the 8-minute mark
MODES = ("none", "model-offload", "group-offload", "dfloat11")


def forward_flops(config: dict, image_tokens: int, text_tokens: int) -> float:
    """Matmul FLOPs of one transformer forward (the modulation, embedders and norms are negligible).

    Per block and token, each stream (image, text) runs q, k, v, out (4·d²) and a 4× MLP (8·d²): 2·12·d²
    FLOPs; joint attention over S = image + text tokens adds QKᵀ and AV, 4·S²·d.  At 1328² (83×83 = 6,889
    image tokens) with 128 text tokens this is 131.7 TFLOP.
    """
    d = config["num_attention_heads"] * config["attention_head_dim"]
    s = image_tokens + text_tokens
    return config["num_layers"] * (24 * d * d * s + 4 * s * s * d)


def build_transformer(config: dict, device: str, dtype):
    """The transformer with random weights, parameters materialised directly on ``device``."""
    import torch
    from accelerate import init_empty_weights
    from diffusers import QwenImageTransformer2DModel

    with init_empty_weights():          # parameters on meta; the RoPE tables stay real tensors
        model = QwenImageTransformer2DModel(**config)
    generator = torch.Generator(device=device).manual_seed(0)
    for name, module in model.named_modules():
        for pname, param in list(module._parameters.items()):
            if param is None:
                continue
            data = torch.empty(param.shape, dtype=dtype, device=device)
            if param.dim() >= 2:
                data.normal_(0.0, 0.02, generator=generator)
            elif "norm" in f"{name}.{pname}" and pname == "weight":
                data.fill_(1.0)
            else:
                data.zero_()
            module._parameters[pname] = torch.nn.Parameter(data, requires_grad=False)
    return model.eval()


def make_inputs(config: dict, size: int, device: str, dtype):
    import torch

    latent = size // 16                     # VAE 8× then 2×2 patches
    generator = torch.Generator(device="cpu").manual_seed(1)
    hidden = torch.randn(1, latent * latent, config["in_channels"], generator=generator).to(device, dtype)
    text = [torch.randn(1, TEXT_TOKENS, config["joint_attention_dim"], generator=generator).to(device, dtype)
            for _ in range(2)]
    timestep = torch.full((1,), 0.5, device=device, dtype=dtype)
    return hidden, text, timestep, [[(1, latent, latent)]], latent * latent


def cfg_step(model, hidden, text, timestep, img_shapes):
    """One CFG step's model work: the cond and the uncond forward."""
    import torch

    with torch.inference_mode():
        for encoder_hidden_states in text:
            model(hidden_states=hidden, encoder_hidden_states=encoder_hidden_states, timestep=timestep,
                  img_shapes=img_shapes, return_dict=False)


def timed(fn, device: str, repeat: int) -> float:
    import torch

    times = []
    for _ in range(repeat):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_gb(device: str) -> float | None:
    import torch

    if not device.startswith("cuda"):
        return None
    return torch.cuda.max_memory_allocated() / 1e9


def reset_peak(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def dfloat11_skip_reason(df11: str | None) -> str | None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from docgen.regions.qwen import dfloat11_import_error

    why = dfloat11_import_error()
    if why:
        return why.splitlines()[0]
    if not df11 or not Path(df11).is_dir():
        return "no DFloat11 weights (--df11 FOLDER); random weights cannot be DF11-compressed in the time budget"
    return None


def run(args) -> dict:
    import torch

    started = time.perf_counter()
    device, config = args.device, (TINY if args.tiny else FULL)
    size = args.size or (128 if args.tiny else 1328)
    dtype = torch.bfloat16
    on_gpu = device.startswith("cuda")
    results: dict = {"device": torch.cuda.get_device_name(0) if on_gpu else "cpu", "size": size,
                     "text_tokens": TEXT_TOKENS, "torch": torch.__version__, "modes": {}}

    t = time.perf_counter()
    model = build_transformer(config, device, dtype)
    params = sum(p.numel() for p in model.parameters())
    results["params_billion"] = round(params / 1e9, 3)
    results["build_s"] = round(time.perf_counter() - t, 2)
    hidden, text, timestep, img_shapes, image_tokens = make_inputs(config, size, device, dtype)
    flops = 2 * forward_flops(config, image_tokens, TEXT_TOKENS)      # cond + uncond
    results["tflop_per_forward"] = round(flops / 2 / 1e12, 2)
    print(f"{params / 1e9:.2f} B parameters built on {device} in {results['build_s']} s; "
          f"{image_tokens} image + {TEXT_TOKENS} text tokens, {flops / 2e12:.1f} TFLOP per forward", flush=True)

    def record(mode, step_s=None, skipped=None, **extra):
        row = {"step_s": step_s, "skipped": skipped, **extra}
        if step_s:
            row["tflops"] = round(flops / step_s / 1e12, 1)
            row["peak_vram_gb"] = peak_gb(device)
        results["modes"][mode] = row
        if skipped:
            print(f"{mode:14s} skipped: {skipped}", flush=True)
        else:
            print(f"{mode:14s} {step_s:8.3f} s/step  {row['tflops']:7.1f} TFLOP/s  "
                  f"peak {row['peak_vram_gb'] or 0:6.1f} GB  {extra or ''}", flush=True)

    step = lambda: cfg_step(model, hidden, text, timestep, img_shapes)  # noqa: E731

    # none: resident
    reset_peak(device)
    step()                                                   # warm-up: kernel selection, RoPE tables
    record("none", round(timed(step, device, args.repeat), 4))

    for mode in MODES[1:]:
        if time.perf_counter() - started > DEADLINE_S:
            record(mode, skipped="time budget reached")
            continue
        if not on_gpu:
            record(mode, skipped="needs a CUDA GPU")
            continue
        if mode == "model-offload":
            from accelerate import cpu_offload_with_hook
            model.to("cpu")
            reset_peak(device)
            model, hook = cpu_offload_with_hook(model, execution_device=device)
            first = timed(step, device, 1)                   # includes moving 41 GB to the GPU
            steady = timed(step, device, args.repeat)
            hook.offload()
            hook.remove()
            record(mode, round(steady, 4), onload_s=round(first - steady, 2),
                   per_step_at_50=round(steady + (first - steady) / 50, 4))
        elif mode == "group-offload":
            model.to("cpu")
            reset_peak(device)
            model.enable_group_offload(onload_device=torch.device(device), offload_device=torch.device("cpu"),
                                       offload_type="block_level", num_blocks_per_group=1, use_stream=True)
            step()                                           # warm-up: pinning, stream setup
            record(mode, round(timed(step, device, args.repeat), 4))
        elif mode == "dfloat11":
            why = dfloat11_skip_reason(args.df11)
            if why:
                record(mode, skipped=why)
                continue
            del model
            reset_peak(device)
            model = load_df11(config, args.df11, device)
            step = lambda: cfg_step(model, hidden, text, timestep, img_shapes)  # noqa: E731
            step()
            record(mode, round(timed(step, device, args.repeat), 4))

    base = results["modes"]["none"]["step_s"]
    for row in results["modes"].values():
        row["ratio_to_none"] = round(row["step_s"] / base, 2) if row.get("step_s") else None
    results["total_s"] = round(time.perf_counter() - started, 1)
    return results


def load_df11(config: dict, folder: str, device: str):
    """The transformer skeleton filled from DFloat11 weights, as docgen's loader does it."""
    import torch
    from accelerate import init_empty_weights
    from diffusers import QwenImageTransformer2DModel

    from docgen.regions.qwen import import_dfloat11

    dfloat11 = import_dfloat11()
    with init_empty_weights():
        model = QwenImageTransformer2DModel(**config)
    for module in model.modules():
        for name, param in list(module._parameters.items()):
            if param is not None and param.is_meta:
                module._parameters[name] = torch.nn.Parameter(
                    torch.empty(param.shape, dtype=torch.bfloat16, device="cpu"), requires_grad=False)
    dfloat11.DFloat11Model.from_pretrained(folder, device=device, bfloat16_model=model)
    return model.eval()


def print_table(results: dict) -> None:
    print(f"\nQwen-Image transformer, one CFG step at {results['size']}² on {results['device']} "
          f"({results['params_billion']} B params, {results['tflop_per_forward']} TFLOP/forward)")
    print(f"{'mode':14s} {'s/step':>8s} {'TFLOP/s':>8s} {'peak GB':>8s} {'× none':>7s}")
    for mode, row in results["modes"].items():
        if row.get("skipped"):
            print(f"{mode:14s} skipped: {row['skipped']}")
            continue
        peak = f"{row['peak_vram_gb']:.1f}" if row.get("peak_vram_gb") is not None else "-"
        print(f"{mode:14s} {row['step_s']:8.3f} {row['tflops']:8.1f} {peak:>8s} {row['ratio_to_none']:7.2f}")
    print(f"total {results['total_s']} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="a 2-block model (smoke test)")
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--size", type=int, default=None, help="image side in pixels (default 1328; tiny 128)")
    parser.add_argument("--repeat", type=int, default=2, help="timed steps per mode (best is reported)")
    parser.add_argument("--df11", default=os.environ.get("DOCGEN_DF11_MODEL"), help="DFloat11 weights folder")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA GPU here; use --tiny --device cpu for a smoke run", file=sys.stderr)
        return 2
    results = run(args)
    print_table(results)
    if os.environ.get("OUT"):
        out = Path(os.environ["OUT"]) / "gpu_qwen.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
