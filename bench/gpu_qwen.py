"""Qwen-Image on one GPU with random weights: the transformer's step time and MFU per memory mode, the
24/32 mode under a 24 GiB cap, and docgen's own ``load_pipeline`` in every mode with the tiny pipeline.

Builds the full-size QwenImageTransformer2DModel (60 blocks, 24 heads × 128, joint_attention_dim 3584,
in 64 / out 16, RoPE axes (16, 56, 56): 20.43 B parameters) from its config, with its parameters on the
meta device and materialised straight on the GPU in bfloat16 (no 41 GB pass through host RAM, no slow
CPU init), then times one classifier-free-guidance denoising step at 1328×1328 — two forwards, cond and
uncond, 6,889 image tokens and 128 text tokens each.  Parts, in order, each written to
``$OUT/gpu_qwen.json`` as soon as it is done:

- ``none``            the transformer resident: step time, TFLOP/s and MFU (131.7 TFLOP per forward at
                      1328², so 13.2 PFLOP per 50-step CFG picture: 16.5 s at 800 TFLOP/s; MFU against
                      ``--peak-tflops``, default 989, the H100/H200 SXM dense bf16 figure)
- ``model-offload``   accelerate's cpu_offload_with_hook, as ``enable_model_cpu_offload`` installs it
- ``group-offload``   diffusers' block-level group offload, one block at a time, ``use_stream=True``
- ``bf16-blockswap``  docgen's 24/32 bf16 mode (group offload with ``low_cpu_mem_usage=True``: no pinned
                      copy of the 41 GB) under ``torch.cuda.set_per_process_memory_fraction`` = 24 GiB:
                      step time, peak VRAM, host RSS and its growth
- ``dfloat11-offload`` only with an importable dfloat11 and ``--df11 FOLDER``; otherwise "skipped: why"
                      (random weights are not DF11-compressed here: dfloat11's compressor is a CPU Huffman
                      coder, far outside the 8-minute budget for 20 B parameters)
- ``load_pipeline``   a subprocess that builds tests/qwen_tiny.py's pipeline and loads it through docgen's
                      ``load_pipeline`` in every memory mode (on CUDA; on the CPU only ``none`` can run):
                      this is the one part that imports docgen, and so needs its runtime dependencies

Finishes inside 8 minutes on an H100/H200: each part is skipped once the deadline nears.

    python bench/gpu_qwen.py                      # the real size, on cuda
    python bench/gpu_qwen.py --tiny --device cpu  # a smoke run of the same code here (tests run it)

On a bare lent GPU machine (torch, transformers, accelerate, safetensors and cupy, no network), carry
wheels downloaded here::

    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl \
        diffusers==0.42.1 dfloat11==0.5.0 pydantic==2.14.4 pydantic-core==2.50.5 annotated-types \
        typing-inspection typing-extensions pyyaml jinja2 markupsafe pillow tokenizers
    # on the device (≈ 20 MB of wheels, inside the tool's 64 MiB carry; leave out pillow or tokenizers when
    # the machine has them, so /tmp/site does not shadow the versions its transformers was installed with):
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
    OUT=$OUT timeout 480 python3 bench/gpu_qwen.py

(pydantic and pydantic-core are pinned as a pair; ``import docgen.regions.qwen`` needs pydantic, jinja2 and
pyyaml, the other parts none of docgen.)  Without the docgen dependencies only the ``load_pipeline`` part is
skipped.  dfloat11 imports cupy, which that machine has; with dfloat11 and no ``--df11`` folder the DF11
part is skipped.
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
DEADLINE_S = 7 * 60 + 15        # leave room for the report before the 8-minute mark
MODES = ("none", "model-offload", "group-offload", "bf16-blockswap", "dfloat11-offload")
LOAD_MODES = ("none", "model-offload", "group-offload", "bf16-blockswap")   # tiny: no DF11 weights
CAP_GIB = 24
PEAK_TFLOPS = 989.0             # H100/H200 SXM, dense bf16


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
    """Why the DF11 part cannot run here (docgen is not imported: this path must run without its deps)."""
    import importlib.util

    if importlib.util.find_spec("dfloat11") is None:
        return "dfloat11 is not installed (carry its wheel and cupy)"
    if not df11 or not Path(df11).is_dir():
        return "no DFloat11 weights (--df11 FOLDER); random weights are not DF11-compressed in the time budget"
    return None


def host_rss_gb() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) * 1024 / 1e9, 2)
    except OSError:
        pass
    return None


def write_json(results: dict) -> None:
    if os.environ.get("OUT"):
        out = Path(os.environ["OUT"]) / "gpu_qwen.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))


def cap_memory(device: str, gib: float) -> float | None:
    """Cap this process's CUDA allocations at ``gib`` (a 24 GB card on a larger one); the fraction used."""
    import torch

    total = torch.cuda.get_device_properties(torch.device(device)).total_memory
    fraction = min(1.0, gib * 2**30 / total)
    torch.cuda.set_per_process_memory_fraction(fraction, torch.device(device))
    return round(fraction, 4)


def run(args) -> dict:
    import torch

    started = time.perf_counter()
    device, config = args.device, (TINY if args.tiny else FULL)
    size = args.size or (128 if args.tiny else 1328)
    dtype = torch.bfloat16
    on_gpu = device.startswith("cuda")
    results: dict = {"device": torch.cuda.get_device_name(0) if on_gpu else "cpu", "size": size,
                     "text_tokens": TEXT_TOKENS, "torch": torch.__version__, "peak_tflops": args.peak_tflops,
                     "modes": {}}

    t = time.perf_counter()
    model = build_transformer(config, device, dtype)
    params = sum(p.numel() for p in model.parameters())
    results["params_billion"] = round(params / 1e9, 3)
    results["build_s"] = round(time.perf_counter() - t, 2)
    hidden, text, timestep, img_shapes, image_tokens = make_inputs(config, size, device, dtype)
    flops = 2 * forward_flops(config, image_tokens, TEXT_TOKENS)      # cond + uncond
    results["tflop_per_forward"] = round(flops / 2 / 1e12, 2)
    results["pflop_per_50_step_picture"] = round(50 * flops / 1e15, 2)
    print(f"{params / 1e9:.2f} B parameters built on {device} in {results['build_s']} s; "
          f"{image_tokens} image + {TEXT_TOKENS} text tokens, {flops / 2e12:.1f} TFLOP per forward", flush=True)
    write_json(results)

    def record(mode, step_s=None, skipped=None, **extra):
        row = {"step_s": step_s, "skipped": skipped, **extra}
        if step_s:
            row["tflops"] = round(flops / step_s / 1e12, 1)
            row["mfu"] = round(flops / step_s / 1e12 / args.peak_tflops, 3) if on_gpu else None
            row["picture_50_steps_s"] = round(50 * step_s, 1)
            row["peak_vram_gb"] = peak_gb(device)
            row["host_rss_gb"] = host_rss_gb()
        results["modes"][mode] = row
        write_json(results)
        if skipped:
            print(f"{mode:16s} skipped: {skipped}", flush=True)
        else:
            print(f"{mode:16s} {step_s:8.3f} s/step  {row['tflops']:7.1f} TFLOP/s  "
                  f"peak {row['peak_vram_gb'] or 0:6.1f} GB  {extra or ''}", flush=True)

    def step():         # reads `model` when called: the parts below rebind it
        cfg_step(model, hidden, text, timestep, img_shapes)

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
        elif mode in ("group-offload", "bf16-blockswap"):
            if mode == "bf16-blockswap":
                # A fresh host copy (anonymous memory here; docgen's comes mmapped from the safetensors):
                # the group-offloaded model's pinned copies go first.
                model = None
                reset_peak(device)
                model = build_transformer(config, "cpu", dtype)
            else:
                model.to("cpu")
            reset_peak(device)
            rss_before = host_rss_gb()
            extra = {}
            if mode == "bf16-blockswap":
                extra["memory_fraction"] = cap_memory(device, CAP_GIB)
            model.enable_group_offload(onload_device=torch.device(device), offload_device=torch.device("cpu"),
                                       offload_type="block_level", num_blocks_per_group=1, use_stream=True,
                                       low_cpu_mem_usage=mode == "bf16-blockswap")
            step()                                           # warm-up: pinning, stream setup
            steady = timed(step, device, args.repeat)
            extra["host_rss_growth_gb"] = round((host_rss_gb() or 0) - (rss_before or 0), 2)
            record(mode, round(steady, 4), **extra)
            if mode == "bf16-blockswap":
                torch.cuda.set_per_process_memory_fraction(1.0, torch.device(device))
        elif mode == "dfloat11-offload":
            why = dfloat11_skip_reason(args.df11)
            if why:
                record(mode, skipped=why)
                continue
            model = None
            reset_peak(device)
            fraction = cap_memory(device, CAP_GIB)
            rss_before = host_rss_gb()
            model = load_df11(config, args.df11, device, args.df11_offload_blocks)
            step()
            record(mode, round(timed(step, device, args.repeat), 4), memory_fraction=fraction,
                   cpu_offload_blocks=args.df11_offload_blocks,
                   host_rss_growth_gb=round((host_rss_gb() or 0) - (rss_before or 0), 2))

    base = results["modes"]["none"]["step_s"]
    for row in results["modes"].values():
        row["ratio_to_none"] = round(row["step_s"] / base, 2) if row.get("step_s") else None
    model = None
    reset_peak(device)

    left = DEADLINE_S - (time.perf_counter() - started)
    results["load_pipeline"] = (load_pipeline_modes(device, timeout=left) if left > 20
                                else {"skipped": "time budget reached"})
    results["total_s"] = round(time.perf_counter() - started, 1)
    write_json(results)
    return results


LOAD_SCRIPT = r"""
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests"]
from qwen_tiny import tiny_config, tiny_model_dir
from docgen.regions.qwen import load_pipeline, unload_pipelines
from docgen.errors import DocgenError
device, modes, cache = sys.argv[2], sys.argv[3].split(","), sys.argv[4]
folder, rows = tiny_model_dir(), {}
for mode in modes:
    start = time.perf_counter()
    try:
        loaded = load_pipeline(tiny_config(folder, cache, device=device, memory_mode=mode, dtype="auto"))
        embeds = loaded.encode_prompts(["a tower"], 512)
        rows[mode] = {"ok": True, "mode": loaded.memory_mode, "notes": loaded.notes,
                      "text_encoder_deleted": loaded.pipe.text_encoder is None, "s": round(time.perf_counter() - start, 2)}
    except DocgenError as exc:
        rows[mode] = {"ok": False, "error": str(exc).splitlines()[0]}
    unload_pipelines()
print("ROWS " + json.dumps(rows))
"""


def load_pipeline_modes(device: str, timeout: float) -> dict:
    """docgen's load_pipeline in every mode with the tiny pipeline, in a subprocess (it imports docgen)."""
    import subprocess
    import tempfile

    root = str(Path(__file__).resolve().parent.parent)
    modes = LOAD_MODES if device.startswith("cuda") else ("none",)
    with tempfile.TemporaryDirectory() as cache:
        try:
            done = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, root, device, ",".join(modes), cache],
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"skipped": "time budget reached"}
    for line in done.stdout.splitlines():
        if line.startswith("ROWS "):
            rows = json.loads(line[5:])
            for mode, row in rows.items():
                print(f"load_pipeline {mode:16s} {'ok' if row['ok'] else 'error: ' + row['error']}", flush=True)
            return rows
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"skipped": f"the docgen subprocess failed (its dependencies carried?): {tail[0]}"}


def load_df11(config: dict, folder: str, device: str, offload_blocks: int):
    """The transformer skeleton filled from DFloat11 weights, ``offload_blocks`` of them in pinned memory."""
    import torch
    from accelerate import init_empty_weights
    from diffusers import QwenImageTransformer2DModel

    import dfloat11

    with init_empty_weights():
        model = QwenImageTransformer2DModel(**config)
    for module in model.modules():
        for name, param in list(module._parameters.items()):
            if param is not None and param.is_meta:
                module._parameters[name] = torch.nn.Parameter(
                    torch.empty(param.shape, dtype=torch.bfloat16, device="cpu"), requires_grad=False)
    dfloat11.DFloat11Model.from_pretrained(folder, device=device, bfloat16_model=model, cpu_offload=True,
                                           cpu_offload_blocks=offload_blocks, pin_memory=True)
    return model.eval()


def print_table(results: dict) -> None:
    print(f"\nQwen-Image transformer, one CFG step at {results['size']}² on {results['device']} "
          f"({results['params_billion']} B params, {results['tflop_per_forward']} TFLOP/forward)")
    print(f"{'mode':16s} {'s/step':>8s} {'TFLOP/s':>8s} {'MFU':>6s} {'peak GB':>8s} {'× none':>7s}")
    for mode, row in results["modes"].items():
        if row.get("skipped"):
            print(f"{mode:16s} skipped: {row['skipped']}")
            continue
        peak = f"{row['peak_vram_gb']:.1f}" if row.get("peak_vram_gb") is not None else "-"
        mfu = f"{row['mfu']:.2f}" if row.get("mfu") is not None else "-"
        print(f"{mode:16s} {row['step_s']:8.3f} {row['tflops']:8.1f} {mfu:>6s} {peak:>8s} "
              f"{row['ratio_to_none']:7.2f}")
    print(f"total {results['total_s']} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="a 2-block model (smoke test)")
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--size", type=int, default=None, help="image side in pixels (default 1328; tiny 128)")
    parser.add_argument("--repeat", type=int, default=2, help="timed steps per mode (best is reported)")
    parser.add_argument("--df11", default=os.environ.get("DOCGEN_DF11_MODEL"), help="DFloat11 weights folder")
    parser.add_argument("--df11-offload-blocks", type=int, default=18,
                        help="cpu_offload_blocks for dfloat11-offload (default 18: the planner's 24/32 figure)")
    parser.add_argument("--peak-tflops", type=float, default=PEAK_TFLOPS, help="the GPU's dense bf16 peak, for MFU")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA GPU here; use --tiny --device cpu for a smoke run", file=sys.stderr)
        return 2
    results = run(args)
    print_table(results)
    if os.environ.get("OUT"):
        print(f"wrote {Path(os.environ['OUT']) / 'gpu_qwen.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
