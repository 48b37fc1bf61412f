"""Memory-mode choice, configuration precedence, and the clear errors for GPU-only modes on a CPU."""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from docgen.errors import DocgenError, ModelError
from docgen.regions.config import (
    GB,
    ModelConfig,
    choose_batch_size,
    choose_df11_cpu_offload,
    choose_memory_mode,
)


@pytest.mark.parametrize("free_vram, host_ram, has_df11, expected", [
    (None, 24 * GB, False, "none"),            # no GPU: everything on the CPU
    (0, 24 * GB, True, "none"),
    (79 * GB, 128 * GB, False, "none"),        # H100 80 GB: all 58 GB resident
    (139 * GB, 128 * GB, True, "none"),        # H200
    (47 * GB, 128 * GB, True, "dfloat11"),     # A6000/L40S 48 GB with DF11 weights
    (47 * GB, 128 * GB, False, "model-offload"),
    (47 * GB, 32 * GB, False, "bf16-blockswap"),   # ... but model-offload's host copies need 60 GB
    (39 * GB, 128 * GB, True, "dfloat11"),     # A100 40 GB: DF11 fits without its CPU offload
    (39 * GB, 128 * GB, False, "bf16-blockswap"),
    (24 * GB, 32 * GB, True, "dfloat11-offload"),   # the machine: 24 GB card, 32 GB of RAM
    (24 * GB, 32 * GB, False, "bf16-blockswap"),    # ... without the DF11 download
    (23 * GB, 64 * GB, True, "dfloat11-offload"),
])
def test_choose_memory_mode(free_vram, host_ram, has_df11, expected):
    assert choose_memory_mode(free_vram, host_ram, has_df11) == expected


def test_auto_refuses_a_machine_where_nothing_fits():
    with pytest.raises(ModelError) as info:
        choose_memory_mode(12 * GB, 16 * GB, True)
    message = str(info.value)
    assert "no memory mode fits 12 GB of VRAM and 16 GB of host RAM" in message
    assert "GB more VRAM" in message                    # the shortfall of the closest mode, in figures


def test_auto_plans_for_the_largest_picture():
    from docgen.regions.qwen.memory import largest_size

    with pytest.raises(ModelError, match="at 512×512"):
        choose_memory_mode(12 * GB, 16 * GB, True, size=(512, 512))
    assert largest_size(ModelConfig()) == (1328, 1328)
    assert largest_size(ModelConfig(size_scale=1 / 16)) == (80, 80)


def test_df11_offload_blocks_is_the_planners_field():
    from docgen.regions.config import df11_offload_blocks
    from docgen.regions.plan import plan

    estimate = plan(24, 32, df11=True).mode("dfloat11-offload")
    assert estimate.offloaded_blocks == df11_offload_blocks(24 * GB, 32 * GB)
    assert f"cpu_offload_blocks={estimate.offloaded_blocks}" in estimate.note
    assert 0 < estimate.offloaded_blocks < 60
    assert df11_offload_blocks(80 * GB, 128 * GB) == 0          # everything fits on the GPU
    assert df11_offload_blocks(20 * GB, 32 * GB) > estimate.offloaded_blocks
    assert plan(24, 32).mode("none").offloaded_blocks == 0


def test_df11_cpu_offload_and_batch_size():
    assert choose_df11_cpu_offload(23 * GB) is True
    assert choose_df11_cpu_offload(40 * GB) is False
    assert choose_batch_size(None, "none") == 1
    assert choose_batch_size(23 * GB, "group-offload") == 1
    assert choose_batch_size(79 * GB, "model-offload") == 1
    assert choose_batch_size(79 * GB, "none") == 2


def test_config_precedence_file_env_overrides(tmp_path):
    config_file = tmp_path / "config.toml"
    config_file.write_text('[model]\nmodel = "/models/qwen"\nsteps = 30\nmemory-mode = "group-offload"\n'
                           'df11_cpu_offload = true\n')
    env = {"DOCGEN_CONFIG": str(config_file), "DOCGEN_QWEN_STEPS": "20", "DOCGEN_QWEN_DTYPE": "bfloat16",
           "DOCGEN_CACHE_DIR": str(tmp_path / "cache")}
    config = ModelConfig.from_env({"steps": 8, "true_cfg_scale": None}, env=env)
    assert config.model == "/models/qwen"            # file
    assert config.memory_mode == "group-offload"     # file (dashes accepted)
    assert config.df11_cpu_offload is True
    assert config.dtype == "bfloat16"                # env
    assert config.steps == 8                         # override beats env beats file
    assert config.true_cfg_scale == 4.0              # None override ignored: default
    assert config.cache_dir == str(tmp_path / "cache")


def test_config_errors_name_the_field(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))     # platformdirs' config folder on Linux
    with pytest.raises(DocgenError, match="memory_mode"):
        ModelConfig(memory_mode="turbo")
    with pytest.raises(DocgenError, match="DOCGEN_QWEN_STEPS"):
        ModelConfig.from_env(env={"DOCGEN_QWEN_STEPS": "many", "XDG_CONFIG_HOME": str(tmp_path)})
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\ntrust_remote_code = true\n")     # a setting docgen does not have
    with pytest.raises(DocgenError, match="trust_remote_code: unknown setting"):
        ModelConfig.from_env(env={}, config_file=bad)
    with pytest.raises(DocgenError, match="config file not found"):
        ModelConfig.from_env(env={"DOCGEN_CONFIG": str(tmp_path / "missing.toml")})
    with pytest.raises(DocgenError, match="unknown model setting"):
        ModelConfig.from_env({"remote_code": "x"}, env={"XDG_CONFIG_HOME": str(tmp_path)})


def test_config_is_hashable_for_the_pipeline_cache():
    assert hash(ModelConfig(steps=3)) == hash(ModelConfig(steps=3))
    assert ModelConfig(steps=3) != ModelConfig(steps=4)


@pytest.mark.parametrize("mode", ["dfloat11", "model-offload", "group-offload"])
def test_gpu_modes_on_cpu_are_clear_errors(mode, tmp_path):
    from docgen.regions.qwen import load_pipeline, resolve_memory_mode

    config = ModelConfig(memory_mode=mode, device="cpu", model=str(tmp_path))
    with pytest.raises(ModelError, match="CUDA"):
        resolve_memory_mode(config, "cpu")
    with pytest.raises(ModelError, match="needs a CUDA GPU"):
        load_pipeline(config)          # fails before reading any weights


def test_auto_mode_on_cpu_is_none():
    from docgen.regions.qwen import resolve_memory_mode

    assert resolve_memory_mode(ModelConfig(memory_mode="auto", device="cpu"), "cpu") == "none"


def test_cuda_device_without_gpu():
    import torch

    from docgen.regions.qwen import resolve_device

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ModelError, match="no CUDA GPU"):
        resolve_device(ModelConfig(device="cuda"))


def test_dfloat11_import_failures_are_messages():
    import importlib.util

    from docgen.regions.qwen import dfloat11_import_error, import_dfloat11

    if importlib.util.find_spec("dfloat11") is not None:
        pytest.skip("dfloat11 is installed here")
    with pytest.raises(ModelError, match=r"pip install 'dfloat11\[cuda12\]'"):
        import_dfloat11()
    assert "dfloat11" in dfloat11_import_error()


def test_dfloat11_import_shims_are_scoped():
    """pkg_resources (gone in setuptools ≥ 82) is lent to dfloat11's import only, then withdrawn."""
    import importlib.util
    import sys

    from docgen.regions.qwen.memory import _dfloat11_import_shims

    had = importlib.util.find_spec("pkg_resources") is not None
    with _dfloat11_import_shims():
        import pkg_resources
        assert pkg_resources.resource_filename("docgen", "regions").endswith("regions")
        import transformers.modeling_utils as tmu
        assert hasattr(tmu, "no_init_weights")
    if not had:
        assert "pkg_resources" not in sys.modules


def test_group_offload_placement_runs_and_matches_resident():
    """The group-offload composition (transformer and text encoder block by block, VAE leaf by leaf) on
    the tiny pipeline; on the CPU the onload device is the CPU too, so only the hooks are exercised."""
    import numpy as np
    import torch
    from diffusers import QwenImagePipeline

    from docgen.regions.qwen.memory import place_pipeline
    from qwen_tiny import tiny_model_dir

    def picture(mode):
        pipe = QwenImagePipeline.from_pretrained(tiny_model_dir(), local_files_only=True, dtype=torch.float32)
        place_pipeline(pipe, mode, "cpu")
        pipe.set_progress_bar_config(disable=True)
        image = pipe(prompt="塔", negative_prompt=" ", height=64, width=64, num_inference_steps=2,
                     generator=torch.Generator("cpu").manual_seed(0)).images[0]
        return np.asarray(image, dtype=np.int16)

    assert np.abs(picture("group-offload") - picture("none")).max() <= 1


# --------------------------------------------------------------------------------------------
# plan → mode → placement, with fake machine figures
# --------------------------------------------------------------------------------------------
@pytest.fixture
def fake_machine(monkeypatch):
    """A CUDA machine as far as resolve_memory_mode can tell: free VRAM, host RAM and DF11 availability."""
    from docgen.regions.qwen import memory

    def set_machine(vram_gb, ram_gb, df11):
        monkeypatch.setattr(memory, "free_vram_bytes", lambda device: int(vram_gb * GB))
        monkeypatch.setattr(memory, "host_ram_bytes", lambda: int(ram_gb * GB))
        monkeypatch.setattr(memory, "df11_weights", lambda config: "/df11" if df11 else None)
        monkeypatch.setattr(memory, "dfloat11_import_error", lambda: None if df11 else "not installed")
    return set_machine


@pytest.mark.parametrize("vram, ram, df11, expected", [
    (24, 32, True, "dfloat11-offload"),
    (24, 32, False, "bf16-blockswap"),
    (48, 64, True, "dfloat11"),
    (80, 128, False, "none"),
])
def test_auto_on_a_gpu_asks_the_planner(fake_machine, vram, ram, df11, expected):
    from docgen.regions.qwen.memory import resolve_memory_mode

    fake_machine(vram, ram, df11)
    assert resolve_memory_mode(ModelConfig(memory_mode="auto"), "cuda") == expected


def test_auto_on_a_small_gpu_is_a_clear_refusal(fake_machine):
    from docgen.regions.qwen.memory import resolve_memory_mode

    fake_machine(12, 16, True)
    with pytest.raises(ModelError, match="no memory mode fits 12 GB of VRAM and 16 GB of host RAM"):
        resolve_memory_mode(ModelConfig(memory_mode="auto"), "cuda")


def test_text_encoder_goes_to_the_gpu_only_when_it_fits():
    from docgen.regions.qwen.memory import text_encoder_device

    assert text_encoder_device("cuda", int(23.5 * GB)) == "cuda"     # an empty 24 GB card
    assert text_encoder_device("cuda", 12 * GB) == "cpu"             # beside the resident DF11 blocks
    assert text_encoder_device("cpu", None) == "cpu"


@pytest.mark.parametrize("mode", ["dfloat11-offload", "bf16-blockswap"])
def test_new_gpu_modes_on_cpu_are_clear_errors(mode, tmp_path):
    from docgen.regions.qwen import load_pipeline

    with pytest.raises(ModelError, match="needs a CUDA GPU"):
        load_pipeline(ModelConfig(memory_mode=mode, device="cpu", model=str(tmp_path)))


# --------------------------------------------------------------------------------------------
# The encode-once flow on the tiny pipeline (CPU): same pictures, encoder gone, no hooks left
# --------------------------------------------------------------------------------------------
def _tiny_loaded(mode, **components):
    import torch
    from diffusers import QwenImagePipeline

    from docgen.regions.qwen.load import LoadedPipeline, load_text_encoder
    from docgen.regions.qwen.memory import place_pipeline
    from qwen_tiny import tiny_model_dir

    folder = tiny_model_dir()
    if mode != "none":
        components.setdefault("text_encoder", load_text_encoder(folder, torch.float32, "cpu"))
    pipe = QwenImagePipeline.from_pretrained(folder, local_files_only=True, dtype=torch.float32, **components)
    place_pipeline(pipe, mode, "cpu")
    pipe.set_progress_bar_config(disable=True)
    return LoadedPipeline(pipe=pipe, device="cpu", dtype=torch.float32, memory_mode=mode, model_dir=folder,
                          revision=None)


def _picture(loaded, embeds, prompt="塔", negative=" "):
    import numpy as np
    import torch

    (pe, pm), (ne, nm) = embeds[prompt], embeds[negative]
    image = loaded.pipe(prompt_embeds=pe, prompt_embeds_mask=pm, negative_prompt_embeds=ne,
                        negative_prompt_embeds_mask=nm, true_cfg_scale=4.0, height=64, width=64,
                        num_inference_steps=2, generator=torch.Generator("cpu").manual_seed(0)).images[0]
    return np.asarray(image, dtype=np.int16)


def _hooked(module) -> list[str]:
    return [name for name, m in module.named_modules() if hasattr(m, "_hf_hook")]


def test_encode_once_flow_matches_the_resident_flow():
    import numpy as np

    resident = _tiny_loaded("none")
    expected = _picture(resident, resident.encode_prompts(["塔", " "], 512))
    assert resident.pipe.text_encoder is not None           # "none" keeps everything

    swapped = _tiny_loaded("bf16-blockswap")
    assert swapped.encodes_once
    embeds = swapped.encode_prompts(["塔", " ", "塔"], 512)
    assert swapped.pipe.text_encoder is None                 # deleted, not parked on the CPU
    assert not _hooked(swapped.pipe.vae) and not _hooked(swapped.pipe.transformer)
    assert np.abs(_picture(swapped, embeds) - expected).max() <= 1

    # An OCR retry asks for the same prompts again: answered from the kept embeddings, no encoder.
    again = swapped.encode_prompts(["塔"], 512)
    assert again["塔"][0] is embeds["塔"][0] and swapped.pipe.text_encoder is None


def test_a_prompt_after_the_encoder_left_reloads_it_once():
    loaded = _tiny_loaded("bf16-blockswap")
    loaded.encode_prompts(["塔"], 512)
    embeds = loaded.encode_prompts(["船", "塔"], 512)
    assert set(embeds) == {"船", "塔"}
    assert loaded.pipe.text_encoder is None
    assert any("reloaded" in note for note in loaded.notes)


def test_dfloat11_offload_builds_the_transformer_after_encoding():
    """The transformer of dfloat11-offload is built only once the encoder has left (here from the tiny
    bf16 weights: the DF11 kernel needs CUDA); the picture is the resident one."""
    import numpy as np
    import torch
    from diffusers import QwenImageTransformer2DModel

    from qwen_tiny import tiny_model_dir

    resident = _tiny_loaded("none")
    expected = _picture(resident, resident.encode_prompts(["塔", " "], 512))

    loaded = _tiny_loaded("dfloat11-offload", transformer=None)
    assert loaded.pipe.transformer is None
    seen = {}

    def build():
        seen["encoder at build"] = loaded.pipe.text_encoder
        return QwenImageTransformer2DModel.from_pretrained(tiny_model_dir(), subfolder="transformer",
                                                           torch_dtype=torch.float32)
    loaded.pending_transformer = build
    embeds = loaded.encode_prompts(["塔", " "], 512)
    assert seen["encoder at build"] is None and loaded.pending_transformer is None
    assert loaded.pipe.transformer is not None
    assert np.abs(_picture(loaded, embeds) - expected).max() <= 1


def _mapped_files() -> list[tuple[int, int, str]]:
    spans = []
    with open("/proc/self/maps") as fh:
        for line in fh:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].strip().endswith(".safetensors"):
                start, end = (int(x, 16) for x in fields[0].split("-"))
                spans.append((start, end, fields[5].strip()))
    return spans


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads /proc/self/maps (Linux)")
def test_blockswap_blocks_stay_in_the_mmapped_safetensors():
    """bf16-blockswap's host RAM figure assumes the 41 GB of blocks are file-backed pages (reclaimable page
    cache), not an anonymous copy: every block parameter must point into a mapping of the transformer's
    safetensors file, also after the block swapping is set up."""
    loaded = _tiny_loaded("bf16-blockswap")
    spans = [s for s in _mapped_files() if "/transformer/" in s[2]]
    assert spans, "the transformer's safetensors are not mmapped"
    params = [p for block in loaded.pipe.transformer.transformer_blocks for p in block.parameters()]
    outside = [p.shape for p in params if not any(a <= p.data_ptr() < b for a, b, _ in spans)]
    assert not outside, f"{len(outside)} of {len(params)} block parameters were copied out of the mmap"
