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
    (62 * GB, 64 * GB, True, "none"),
    (47 * GB, 128 * GB, True, "dfloat11"),     # A6000/L40S 48 GB with DF11 weights
    (47 * GB, 128 * GB, False, "model-offload"),
    (39 * GB, 128 * GB, True, "dfloat11"),     # A100 40 GB: DF11 fits without its CPU offload
    (39 * GB, 128 * GB, False, "group-offload"),
    (23 * GB, 64 * GB, True, "dfloat11"),      # 24 GB card: DF11 with its CPU offload
    (23 * GB, 32 * GB, True, "group-offload"),  # ... but not enough host RAM for pinned blocks
    (23 * GB, 64 * GB, False, "group-offload"),
    (15 * GB, 64 * GB, True, "group-offload"),  # 16 GB card: only block streaming fits
])
def test_choose_memory_mode(free_vram, host_ram, has_df11, expected):
    assert choose_memory_mode(free_vram, host_ram, has_df11) == expected


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


def test_config_errors_name_the_field(tmp_path):
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
