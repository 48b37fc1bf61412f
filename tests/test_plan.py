"""The memory planner: predicted peaks per memory mode, the choice, the refusal, and the CLI table."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from docgen.errors import ModelError
from docgen.regions import plan as planner
from docgen.regions.plan import GB, GiB, choose, pinned_bytes, plan


def _run(code_or_args, module=False):
    env = dict(os.environ, PYTHONPATH=str(ROOT), DOCGEN_BACKEND="draft")
    args = ["-m", "docgen", *code_or_args] if module else ["-c", code_or_args]
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def _item(estimate, component, memory="vram"):
    found = [i for i in estimate.items if i.component == component and i.memory == memory]
    assert len(found) == 1, (component, [i.component for i in estimate.items])
    return found[0]


def test_24_gb_gpu_with_32_gb_ram_runs_dfloat11_offload_within_both():
    p = plan(24, 32)
    assert p.chosen == "dfloat11-offload" and choose(24, 32) == "dfloat11-offload"
    row = p.mode("dfloat11-offload")
    assert row.vram_peak <= 24 * GB and row.ram_peak <= 32 * GB
    assert row.fits and row.df11_assumed                    # df11=None: assumed available, and marked
    names = {i.component for i in row.items}
    assert {"CUDA context", "text_encoder", "transformer resident DF11 blocks", "pinned DF11 blocks",
            "DF11 decompression buffer", "transformer activations", "VAE decode", "process"} <= names
    assert all(i.reason for i in row.items)
    assert "tiled" in _item(row, "VAE decode").reason
    # N offloaded blocks: some, not all, and the pinned item is N × the rounded per-block cost.
    offloaded = int(row.note.split("cpu_offload_blocks=")[1].split(":")[0])
    assert 0 < offloaded < 60
    per_block = sum(pinned_bytes(n) for n in planner._df11_block_parts(planner._sizes_for(None)).values())
    assert _item(row, "pinned DF11 blocks", "ram").bytes == offloaded * per_block
    # The bf16 modes do not fit a 24 GB card whole.
    assert not p.mode("none").fits and not p.mode("model-offload").fits


def test_choices_on_bigger_machines_and_without_df11_weights():
    assert choose(80, 128) == "none"
    assert choose(48, 64) == "dfloat11"
    assert choose(48, 64, df11=False) == "model-offload"
    assert choose(24, 32, df11=False) == "bf16-blockswap"
    row = plan(24, 32, df11=False).mode("dfloat11-offload")
    assert row.df11_missing and not row.fits


def test_a_small_machine_is_refused_naming_the_shortfall():
    with pytest.raises(ModelError) as info:
        choose(12, 16)
    message = str(info.value)
    assert "12 GB of VRAM" in message and "16 GB of host RAM" in message
    assert "GB more VRAM" in message and "1328×1328" in message
    p = plan(12, 16)
    assert p.chosen is None and p.refusal == message


def test_without_df11_weights_a_20_gb_card_swaps_bf16_blocks():
    p = plan(20, 32, df11=False)
    assert p.chosen == "bf16-blockswap"
    row = p.mode("bf16-blockswap")
    assert row.vram_peak <= 20 * GB and "swapped in" in row.note
    cache = _item(row, "swapped blocks page cache", "ram")
    assert not cache.counted and cache.bytes > 0               # reclaimable: shown, not in the peak


def _meta_counts():
    """Count parameters independently: the bundled configs built on the meta device."""
    torch = pytest.importorskip("torch")
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    def config(name):
        with open(ROOT / "docgen" / "regions" / "configs" / f"{name}.json") as fh:
            return {k: v for k, v in json.load(fh).items() if not k.startswith("_")}

    with init_empty_weights():
        models = {
            "transformer": QwenImageTransformer2DModel.from_config(config("transformer")),
            "text_encoder": Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(**config("text_encoder"))),
            "vae": AutoencoderKLQwenImage.from_config(config("vae")),
        }
    assert all(p.device == torch.device("meta") for m in models.values() for p in m.parameters())
    return {name: sum(p.numel() for p in m.parameters()) for name, m in models.items()}


def test_weight_items_are_parameter_counts_of_the_configs_on_meta():
    counts = _meta_counts()
    # The figures, to 3 significant figures.
    assert f"{counts['transformer']:.3g}" == "2.04e+10"          # 20.43 B
    assert f"{counts['text_encoder']:.3g}" == "8.29e+09"
    assert f"{counts['vae']:.3g}" == "1.27e+08"
    row = plan(80, 128).mode("none")
    for name, n in counts.items():
        assert _item(row, name).bytes == n * 2                  # bf16
    # The counts cached in the JSON (used without torch) are the same numbers.
    for name, n in counts.items():
        assert planner.bundled_configs()[name]["_param_counts"]["total"] == n
    assert planner.count_parameters() == {c: planner.bundled_configs()[c]["_param_counts"]
                                          for c in planner.COMPONENTS}


def test_dfloat11_size_matches_the_published_weights():
    _, _, df11 = planner._df11_sizes(planner._sizes_for(None))
    assert 28.2 * GB < df11 < 28.6 * GB                          # Qwen-Image-DF11 ≈ 28.4 GB
    assert 0.69 <= planner.DF11_RATIO <= 0.70


def test_pinned_allocations_round_up_to_a_power_of_two():
    assert pinned_bytes(int(2.1 * GiB)) == 4 * GiB
    assert pinned_bytes(GiB) == GiB and pinned_bytes(GiB + 1) == 2 * GiB
    assert pinned_bytes(0) == 0
    # Group offloading pins each parameter on its own: the transformer's 40.9 GB pin as far more.
    row = plan(80, 128).mode("group-offload")
    pinned = _item(row, "transformer (pinned)", "ram").bytes
    assert pinned > 1.5 * 40.8 * GB


def test_model_dir_with_the_tiny_pipeline_gives_tiny_figures():
    pytest.importorskip("diffusers")
    from qwen_tiny import tiny_model_dir

    folder = tiny_model_dir()
    p = plan(24, 32, model_dir=folder)
    assert str(folder) in p.counts_source
    row = p.mode("none")
    for name in planner.COMPONENTS:
        assert 0 < _item(row, name).bytes < 50e6
    assert row.fits and p.chosen == "none"
    assert p.mode("none").vram_peak < 3 * GB                    # context + tiny weights + activations


def test_importing_the_planner_and_planning_do_not_import_torch():
    r = _run("import sys, docgen.regions.plan as p, docgen.regions.doctor\n"
             "p.plan(24, 32)\n"
             "assert 'torch' not in sys.modules, 'torch imported'\n"
             "print('ok')")
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr


def test_doctor_plan_prints_the_table():
    r = _run(["doctor", "--plan", "--vram", "24", "--ram", "32"], module=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any(line.startswith("mode") and "peak VRAM" in line and "chosen" in line for line in lines)
    chosen = [line for line in lines if line.startswith("dfloat11-offload ")]
    assert chosen and "*" in chosen[0] and "yes" in chosen[0]
    assert "pinned DF11 blocks" in r.stdout                     # the chosen mode itemised
    for mode in planner.MODES:
        assert any(line.startswith(mode + " ") for line in lines)


def test_doctor_plan_verbose_itemises_every_mode_and_reads_sizes():
    r = _run(["doctor", "--plan", "--vram", "12", "--ram", "16", "--size", "1024x768", "--no-df11",
              "--verbose"], module=True)
    assert r.returncode == 0, r.stderr
    assert "refused:" in r.stdout and "1024×768" in r.stdout
    for mode in planner.MODES:
        assert f"\n{mode}: peak VRAM" in r.stdout
    bad = _run(["doctor", "--plan", "--vram", "24", "--ram", "32", "--size", "big"], module=True)
    assert bad.returncode == 2 and "WIDTHxHEIGHT" in bad.stderr
