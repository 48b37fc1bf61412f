"""Loud, never silent: the qwen-image backend on broken weights folders, refused settings, pictures that
are not pictures, weights identity, one pipeline per weights/dtype/memory plan, and long prompts.

Every case runs the real tiny random-weight pipeline (tests/qwen_tiny.py), copied and then broken the
way downloads and edits break real weights: a truncated file, a missing folder, an edited config,
weights rewritten in place, NaN weights.
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gc
import json
import shutil
import weakref

import pytest
from qwen_tiny import tiny_config, tiny_model_dir

import docgen
import docgen.regions
from docgen.errors import ModelError
from docgen.regions.base import RegionRequest
from docgen.regions.qwen import QwenImageBackend, available_backend
from docgen.regions.qwen.weights import check_df11_weights, weights_fingerprint

LAKE = RegionRequest(prompt="lake", width=32, height=32, seed=1, language="en", region_id="body.1")


@pytest.fixture
def weights(tmp_path):
    """A private copy of the tiny pipeline, free to break."""
    return shutil.copytree(tiny_model_dir(), tmp_path / "Qwen-Image-copy")


def backend_for(folder, tmp_path, **changes):
    return QwenImageBackend(tiny_config(folder, tmp_path / "cache", **changes))


def cache_entries(tmp_path):
    return list((tmp_path / "cache").glob("??/*.json"))


def _overwrite_in_place(path, name, change):
    """Rewrite one tensor's bytes inside a safetensors file: same header, same size, new values."""
    import numpy as np

    with open(path, "r+b") as fh:
        length = int.from_bytes(fh.read(8), "little")
        entry = json.loads(fh.read(length))[name]
        assert entry["dtype"] == "F32"
        start, end = entry["data_offsets"]
        fh.seek(8 + length + start)
        values = np.frombuffer(fh.read(end - start), dtype=np.float32)
        fh.seek(8 + length + start)
        fh.write(change(values).astype(np.float32).tobytes())


def _rewrite(path, change):
    """Load a safetensors file, change its tensors in place (same shapes, same dtypes), save it back."""
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(path))
    change(tensors)
    save_file(tensors, str(path))


# -- load failures: a ModelError naming the file --------------------------------------------------
def test_truncated_text_encoder_weights_name_the_file(weights, tmp_path):
    shard = next((weights / "text_encoder").glob("*.safetensors"))
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    with pytest.raises(ModelError, match="truncated") as err:
        backend_for(weights, tmp_path).generate([LAKE])
    assert str(shard) in str(err.value)


def test_missing_tokenizer_folder_is_refused(weights, tmp_path):
    shutil.rmtree(weights / "tokenizer")            # diffusers would build an empty tokenizer and go on
    with pytest.raises(ModelError, match="tokenizer") as err:
        backend_for(weights, tmp_path).generate([LAKE])
    assert str(weights / "tokenizer") in str(err.value)


def test_transformer_config_that_does_not_match_its_weights(weights, tmp_path):
    config = weights / "transformer" / "config.json"
    data = json.loads(config.read_text())
    data["num_layers"] = 3                          # one block more than the weights hold: random init
    config.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="does not match the weights") as err:
        backend_for(weights, tmp_path).generate([LAKE])
    assert str(config) in str(err.value) and "transformer_blocks.2" in str(err.value)


def test_text_encoder_config_that_does_not_match_is_a_model_error(weights, tmp_path):
    config = weights / "text_encoder" / "config.json"
    data = json.loads(config.read_text())
    data["text_config"]["num_hidden_layers"] = 3
    config.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="could not load Qwen-Image") as err:
        backend_for(weights, tmp_path).generate([LAKE])
    assert str(weights) in str(err.value)


def test_df11_weights_of_another_model_are_refused(weights, tmp_path):
    import torch
    from safetensors.torch import save_file

    df11 = tmp_path / "Qwen-Image-DF11"
    df11.mkdir()
    # DFloat11 keeps norms and biases uncompressed under the base model's names.
    save_file({"proj_out.bias": torch.zeros(48), "norm_out.linear.bias": torch.zeros(48)},
              str(df11 / "model.safetensors"))
    with pytest.raises(ModelError, match="do not belong") as err:
        check_df11_weights(df11, weights)
    assert str(df11 / "model.safetensors") in str(err.value) and "is [48] there but [64]" in str(err.value)
    from safetensors import safe_open
    with safe_open(str(next((weights / "transformer").glob("*.safetensors"))), "pt") as fh:
        right = {k: fh.get_tensor(k) for k in ("proj_out.bias", "norm_out.linear.bias")}
    save_file(right, str(df11 / "model.safetensors"))
    check_df11_weights(df11, weights)               # the right model's tensors pass


# -- refused settings ---------------------------------------------------------------------------
def test_float16_is_refused_with_the_reason(tmp_path):
    config = tiny_config(tiny_model_dir(), tmp_path, dtype="float16")
    for attempt in (lambda: QwenImageBackend(config).generate([LAKE]), lambda: QwenImageBackend(config).identity(),
                    lambda: available_backend(required=False, config=config)):
        with pytest.raises(ModelError, match="float16.*NaN"):
            attempt()


def test_one_step_is_refused_before_loading(tmp_path):
    backend = backend_for(tiny_model_dir(), tmp_path, steps=1)
    with pytest.raises(ModelError, match="steps: 1 step cannot run") as err:
        backend.generate([LAKE])
    assert "division by zero" in str(err.value) and backend.calls == 0
    backend_for(tiny_model_dir(), tmp_path, steps=2).identity()      # two steps are fine


def test_one_step_through_render_is_a_model_error_not_a_black_picture(tmp_path):
    config = tiny_config(tiny_model_dir(), tmp_path / "cache", steps=1)
    spec = {"layout": "report", "meta": {"title": "一步"}, "body": [{"generate": {"prompt": "湖", "aspect": "1:1"}}]}
    with pytest.raises(ModelError, match="steps"):
        docgen.render(spec, backend="qwen-image", model_config=config)
    assert cache_entries(tmp_path) == []


# -- pictures that are not pictures ----------------------------------------------------------------
@pytest.mark.parametrize("breakage, problem", [
    ("nan", "NaN/Inf"),            # the transformer's output projection holds NaN (what float16 gives)
    ("flat", "one flat colour"),   # the VAE decoder's last convolution writes one value everywhere
])
def test_bad_pictures_are_retried_then_refused_and_never_cached(weights, tmp_path, breakage, problem):
    if breakage == "nan":
        _rewrite(next((weights / "transformer").glob("*.safetensors")),
                 lambda t: t["proj_out.weight"].fill_(float("nan")))
    else:
        def flatten(t):
            t["decoder.conv_out.weight"].zero_()
            t["decoder.conv_out.bias"].zero_()
        _rewrite(next((weights / "vae").glob("*.safetensors")), flatten)
    config = tiny_config(weights, tmp_path / "cache")
    backend = QwenImageBackend(config)
    spec = {"layout": "report", "meta": {"title": "坏图"}, "body": [{"generate": {"prompt": "湖", "aspect": "1:1"}}]}
    with pytest.raises(ModelError, match=problem) as err:
        docgen.render(spec, backend=backend, model_config=config)     # no PDF, so no AI label either
    assert "body.0" in str(err.value) and "nothing was cached" in str(err.value)
    assert backend.calls == 3                      # the first try and two retries with other seeds
    assert cache_entries(tmp_path) == []


# -- identity -------------------------------------------------------------------------------------
def test_weights_rewritten_in_place_change_the_cache_key(weights, tmp_path):
    from docgen.regions.cache import cache_key, raw_request

    shard = next((weights / "transformer").glob("*.safetensors"))
    size = shard.stat().st_size
    before = backend_for(weights, tmp_path)
    key = cache_key(before.identity(), raw_request(before, LAKE))
    _overwrite_in_place(shard, "proj_out.weight", lambda v: v * 0.5)
    assert shard.stat().st_size == size            # same names, shapes and size: only the values differ
    after = backend_for(weights, tmp_path)
    assert after.identity()["weights"] != before.identity()["weights"]
    assert cache_key(after.identity(), raw_request(after, LAKE)) != key


def test_weights_fingerprint_samples_large_files(tmp_path, monkeypatch):
    from docgen.regions.qwen import weights as weights_module

    folder = tmp_path / "w"
    folder.mkdir()
    blob = folder / "big.bin"
    blob.write_bytes(bytes(4096))
    monkeypatch.setattr(weights_module, "_WHOLE_FILE_BYTES", 1024)     # hash by samples from 1 KiB up
    monkeypatch.setattr(weights_module, "_SAMPLE_BYTES", 64)
    first = weights_fingerprint(folder)
    blob.write_bytes(bytes(4032) + b"\1" * 64)                          # the last bytes rewritten
    assert weights_fingerprint(folder) != first


# -- one pipeline per weights, dtype and memory plan ------------------------------------------------
def test_settings_that_do_not_change_the_weights_share_one_pipeline(tmp_path):
    docgen.regions.unload()
    base = backend_for(tiny_model_dir(), tmp_path)
    loaded = base.pipeline()
    for changes in ({"steps": 4}, {"true_cfg_scale": 2.5}, {"ocr_budget": 1}, {"negative_prompt": "blur"}):
        assert backend_for(tiny_model_dir(), tmp_path, **changes).pipeline() is loaded
    assert backend_for(tiny_model_dir(), tmp_path, dtype="bfloat16").pipeline() is not loaded
    alive = weakref.ref(loaded.pipe)
    del loaded
    docgen.regions.unload()                         # frees it: nothing else holds the pipeline
    gc.collect()
    assert alive() is None
    assert base.pipeline() is not None              # and the next render loads it again


# -- prompts --------------------------------------------------------------------------------------
def test_a_prompt_past_the_encoder_window_warns(tmp_path):
    backend = backend_for(tiny_model_dir(), tmp_path)
    long = RegionRequest(prompt=" ".join(["lighthouse"] * 600), width=32, height=32, language="en",
                         text=(("en", "Open Day"),), region_id="cover")
    with pytest.warns(UserWarning, match=r"cover: the prompt is \d+ tokens.*keeps the first 512"):
        backend.generate([long])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # a short prompt does not warn
        backend.generate([LAKE])
