"""bench/gpu_qwen.py --tiny --device cpu runs here: the same code the lent GPU machine runs, smaller."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gpu_bench_tiny_on_cpu(tmp_path):
    env = {**os.environ, "OUT": str(tmp_path), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_qwen.py"), "--tiny", "--device", "cpu",
                           "--repeat", "1"], capture_output=True, text=True, timeout=480, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "gpu_qwen.json").read_text())
    assert results["modes"]["none"]["step_s"] > 0
    assert results["tflop_per_forward"] >= 0
    for mode in ("model-offload", "group-offload", "bf16-blockswap", "dfloat11-offload"):
        assert results["modes"][mode]["skipped"]                  # GPU-only parts say why
    assert results["load_pipeline"]["none"]["ok"], results["load_pipeline"]


def test_full_size_flop_count_is_the_anchor():
    sys.path.insert(0, str(ROOT / "bench"))
    import gpu_qwen

    tflop = gpu_qwen.forward_flops(gpu_qwen.FULL, 83 * 83, gpu_qwen.TEXT_TOKENS) / 1e12
    assert abs(tflop - 131.7) < 0.1
    assert abs(100 * tflop / 1e3 - 13.2) < 0.1        # 50 steps × cond + uncond ≈ 13 PFLOP per picture
