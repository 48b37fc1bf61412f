"""The qwen-image backend end to end on a tiny random-weight Qwen-Image pipeline, on the CPU.

The pipeline is built offline (tests/qwen_tiny.py), saved with save_pretrained and loaded back through
the production ``load_pipeline``: the same code path as the real 20 B weights, no mocks.
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import io
import json
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from docgen.errors import ModelError
from docgen.regions.base import RegionRequest
from docgen.regions.qwen import (
    QWEN_RESOLUTIONS,
    QwenImageBackend,
    available_backend,
    build_prompt,
    fit_to,
    generation_size,
    load_pipeline,
    resolve_weights,
)
from qwen_tiny import TEMPLATE_PREFIX, TEMPLATE_TOKENS, build_tokenizer, tiny_config, tiny_model_dir


@pytest.fixture(scope="session")
def tiny_dir():
    return tiny_model_dir()


@pytest.fixture
def backend(tiny_dir, tmp_path):
    return QwenImageBackend(tiny_config(tiny_dir, tmp_path / "cache"))


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_tokenizer_drops_exactly_the_template():
    tokenizer = build_tokenizer()
    assert len(tokenizer(TEMPLATE_PREFIX).input_ids) == TEMPLATE_TOKENS == 34


def test_generate_is_deterministic_per_seed(backend):
    poster = RegionRequest(prompt="西湖春晓海报", width=64, height=48, seed=7, text=(("zh", "西湖欢迎您"),),
                           region_id="body.3")
    first = backend.generate([poster])[0]
    again = backend.generate([poster])[0]
    other = backend.generate([RegionRequest(prompt="西湖春晓海报", width=64, height=48, seed=8,
                                            text=(("zh", "西湖欢迎您"),))])[0]
    assert first.png == again.png                              # same seed: same bytes
    assert np.abs(pixels(first.png) - pixels(other.png)).max() > 0   # new seed: new pixels
    assert (first.width, first.height) == (64, 48)
    assert Image.open(io.BytesIO(first.png)).size == (64, 48)  # fitted to the region
    assert first.backend == "qwen-image" and not first.placeholder
    assert first.info["generated_size"] == [96, 64]            # 4:3 → 1472×1104 at 1/16 scale
    assert first.info["seed"] == 7 and first.info["region_id"] == "body.3"
    assert first.info["path"] == "model-text"
    assert first.info["prompt_hash"] == poster.prompt_hash()
    assert backend.calls == 3 and backend.generated == 3


def test_bfloat16_on_the_cpu(tiny_dir, tmp_path):
    backend = QwenImageBackend(tiny_config(tiny_dir, tmp_path, dtype="bfloat16"))
    image = backend.generate([RegionRequest(prompt="lake", width=32, height=32, language="en")])[0]
    assert image.info["dtype"] == "bfloat16" and backend.identity()["dtype"] == "bfloat16"
    assert backend.identity() != QwenImageBackend(tiny_config(tiny_dir, tmp_path)).identity()


def test_pipeline_loaded_once_per_config(tiny_dir, tmp_path):
    config = tiny_config(tiny_dir, tmp_path)
    loaded = load_pipeline(config)
    assert load_pipeline(config) is loaded
    assert loaded.memory_mode == "none" and loaded.device == "cpu"
    assert type(loaded.pipe).__name__ == "QwenImagePipeline"
    assert loaded.pipe.tokenizer.__class__.__name__ == "Qwen2Tokenizer"


def test_batch_of_one_size_is_one_pipeline_call(tiny_dir, tmp_path):
    requests = [RegionRequest(prompt="lake", width=64, height=48, seed=s, language="en") for s in (1, 2)]
    batched = QwenImageBackend(tiny_config(tiny_dir, tmp_path, batch_size=2))
    single = QwenImageBackend(tiny_config(tiny_dir, tmp_path))
    together = batched.generate(requests)
    apart = single.generate(requests)
    assert batched.calls == 1 and single.calls == 2
    for a, b in zip(together, apart):   # per-region generators: the batch does not change the noise
        assert np.abs(pixels(a.png) - pixels(b.png)).max() <= 2


def test_mixed_sizes_come_back_in_request_order(backend):
    requests = [RegionRequest(prompt="banner", width=160, height=48, seed=1, language="en"),
                RegionRequest(prompt="square", width=32, height=32, seed=1, language="en"),
                RegionRequest(prompt="portrait", width=48, height=64, seed=1, language="en")]
    images = backend.generate(requests)
    assert [(i.width, i.height) for i in images] == [(160, 48), (32, 32), (48, 64)]
    assert [Image.open(io.BytesIO(i.png)).size for i in images] == [(160, 48), (32, 32), (48, 64)]
    assert [i.info["generated_size"] for i in images] == [[112, 64], [80, 80], [64, 96]]


@pytest.mark.parametrize("size, expected", [
    ((800, 800), (1328, 1328)), ((1920, 1080), (1664, 928)), ((1080, 1920), (928, 1664)),
    ((1024, 768), (1472, 1104)), ((600, 800), (1104, 1472)), ((1500, 1000), (1584, 1056)),
    ((400, 600), (1056, 1584)), ((3000, 500), (1664, 928)),
])
def test_generation_size_is_the_closest_training_aspect(size, expected):
    assert generation_size(*size) == expected
    assert expected in QWEN_RESOLUTIONS


def test_fit_to_centre_crops_then_resizes():
    # 3:2 picture: red margins left and right, green in the middle 4:3-ish part.
    image = Image.new("RGB", (150, 100), (0, 200, 0))
    image.paste((200, 0, 0), (0, 0, 8, 100))
    image.paste((200, 0, 0), (142, 0, 150, 100))
    fitted = fit_to(image, 64, 48)
    assert fitted.size == (64, 48)
    a = np.asarray(fitted)
    assert a[:, 2, 1].mean() > 150 and a[:, -3, 1].mean() > 150   # the red margins were cropped away


def test_prompt_gets_text_clause_and_quality_suffix():
    zh = RegionRequest(prompt="西湖春景海报。", width=64, height=64, text=(("zh", "西湖欢迎您"),))
    # The lettering leads: the pipeline keeps only a prompt's first 512 tokens.
    assert build_prompt(zh) == "画面中清晰地写着“西湖欢迎您”。西湖春景海报, 超清，4K，电影级构图."
    assert build_prompt(zh, with_text=False) == "西湖春景海报, 超清，4K，电影级构图."
    en = RegionRequest(prompt="A lighthouse at dusk", width=64, height=64, language="en",
                       text=(("en", "Open Day"),))
    assert build_prompt(en) == 'Clearly written text: "Open Day". A lighthouse at dusk, Ultra HD, 4K, ' \
                               "cinematic composition."
    # The no-lettering fallback: without CFG (Lightning) the negative prompt is ignored, so it is asked
    # for in the prompt; with CFG the negative prompt carries it and the prompt is unchanged.
    plain = RegionRequest(prompt="西湖春景海报", width=64, height=64, no_lettering=True)
    assert build_prompt(plain, cfg=False) == "画面中没有任何文字、字母、水印或标志。西湖春景海报, 超清，4K，电影级构图."
    assert build_prompt(plain, cfg=True) == "西湖春景海报, 超清，4K，电影级构图."


def test_identity_does_not_load_the_model_and_tracks_settings(tiny_dir, tmp_path):
    a = QwenImageBackend(tiny_config(tiny_dir, tmp_path, steps=3)).identity()
    b = QwenImageBackend(tiny_config(tiny_dir, tmp_path, steps=4)).identity()
    c = QwenImageBackend(tiny_config(tiny_dir, tmp_path, steps=3, memory_mode="auto")).identity()
    assert a != b and a == c                   # steps change pixels; the memory mode does not
    assert a["scheduler"]["shift_terminal"] == 0.02 and a["versions"]["diffusers"]
    assert a["revision"] is None and len(a["weights"]) == 32


def test_missing_folder_says_where_and_how_to_download(tmp_path):
    missing = tmp_path / "no-such-weights"
    config = tiny_config(missing, tmp_path)
    with pytest.raises(ModelError) as err:
        load_pipeline(config)
    assert str(missing) in str(err.value)
    assert "hf download Qwen/Qwen-Image" in str(err.value)
    with pytest.raises(ModelError):
        available_backend(required=True, config=config)
    backend, why = available_backend(required=False, config=config)
    assert backend is None and why


def test_repo_id_only_from_the_local_cache(tiny_dir, tmp_path, monkeypatch):
    from huggingface_hub import constants

    hub = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub))
    with pytest.raises(ModelError, match="not in the local Hugging Face cache") as err:
        resolve_weights("Qwen/Qwen-Image")
    assert "hf download Qwen/Qwen-Image" in str(err.value)
    # The layout huggingface_hub keeps: refs/main names the snapshot folder.
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = hub / "models--docgen-test--Qwen-Image-tiny"
    shutil.copytree(tiny_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    folder, revision = resolve_weights("docgen-test/Qwen-Image-tiny")
    assert revision == commit and folder.name == commit
    backend = QwenImageBackend(tiny_config("docgen-test/Qwen-Image-tiny", tmp_path / "cache"))
    image = backend.generate([RegionRequest(prompt="lake", width=32, height=32, language="en")])[0]
    assert image.info["revision"] == commit and backend.identity()["revision"] == commit


def test_folder_with_another_pipeline_is_refused(tiny_dir, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(tiny_dir, other)
    index = json.loads((other / "model_index.json").read_text())
    index["_class_name"] = "SomeCustomPipeline"
    (other / "model_index.json").write_text(json.dumps(index))
    with pytest.raises(ModelError, match="not a QwenImagePipeline"):
        load_pipeline(tiny_config(other, tmp_path))


def test_xmp_packet_labels_generated_regions(backend):
    from docgen.regions.draft import DraftBackend
    from docgen.pdf.xmp import AIGC_FIELDS, TC260_NS, xmp_packet
    from docgen.regions.provenance import provenance_records

    generated = backend.generate([RegionRequest(prompt="lake", width=32, height=32, seed=5, region_id="r1")])
    draft = DraftBackend().generate([RegionRequest(prompt="lake", width=32, height=32, region_id="r2")])
    meta = {"title": "西湖 & <文档>", "content_producer": "示例单位", "document_id": "doc-1"}
    packet = xmp_packet(provenance_records(generated + draft), meta)
    assert packet == xmp_packet(provenance_records(generated + draft), meta)                 # deterministic
    root = ET.fromstring(packet.decode("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    label = json.loads(root.find(f".//{{{TC260_NS}}}AIGC").text)
    assert list(label) == list(AIGC_FIELDS)
    assert label["Label"] == "1" and label["ContentProducer"] == "示例单位" and len(label["ProduceID"]) == 32
    seeds = [e.text for e in root.iter() if e.tag.endswith("}Seed")]
    assert seeds == ["5", "0"]
    assert [e.text for e in root.iter() if e.tag.endswith("}AIGenerated")] == ["True", "False"]
    # Draft placeholders alone are not AI-generated content: no label.
    assert b"TC260:AIGC" not in xmp_packet(provenance_records(draft), meta)


def test_doctor_reports_without_crashing(tiny_dir, tmp_path):
    from docgen.regions.doctor import report

    rows = report(tiny_config(tiny_dir, tmp_path))
    items = {item: (status, detail) for item, status, detail in rows}
    assert items["Qwen-Image weights"][0] == "ok" and str(tiny_dir) in items["Qwen-Image weights"][1]
    assert {"torch", "host RAM", "OCR", "memory mode", "dfloat11", "image cache"} <= set(items)
    assert all(status in ("ok", "warn", "missing", "info") for _, status, _ in rows)


def _tiny_lora(path):
    """A LoRA on the tiny transformer's attention projections, saved as diffusers writes one."""
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(0)
    weights = {}
    for block in range(2):
        for proj in ("to_q", "to_k", "to_v", "to_out.0"):
            prefix = f"transformer.transformer_blocks.{block}.attn.{proj}"
            weights[f"{prefix}.lora_A.weight"] = torch.randn(4, 32, generator=generator) * 0.05
            weights[f"{prefix}.lora_B.weight"] = torch.randn(32, 4, generator=generator) * 0.05
    save_file(weights, str(path))
    return path


def test_lightning_lora_few_steps_without_cfg(tiny_dir, tmp_path):
    pytest.importorskip("peft")
    import math

    lora = _tiny_lora(tmp_path / "Qwen-Image-Lightning-4steps.safetensors")
    config = tiny_config(tiny_dir, tmp_path, lightning_lora=str(lora), lightning_steps=4)
    backend = QwenImageBackend(config)
    identity = backend.identity()
    assert identity["steps"] == 4 and identity["true_cfg_scale"] == 1.0
    assert identity["lora"]["file"] == lora.name and len(identity["lora"]["sha256"]) == 64
    assert identity["scheduler"]["base_shift"] == pytest.approx(math.log(3))
    image = backend.generate([RegionRequest(prompt="lake", width=32, height=32, language="en")])[0]
    assert image.info["steps"] == 4 and image.info["true_cfg_scale"] == 1.0 and image.info["lora"] == lora.name
    loaded = load_pipeline(config)
    assert loaded.lora == lora and loaded.pipe.get_active_adapters()
    # A configured LoRA that is not there is skipped (logged), not fatal.
    missing = QwenImageBackend(tiny_config(tiny_dir, tmp_path, lightning_lora=str(tmp_path / "absent.safetensors")))
    assert missing.identity()["lora"] is None and missing.identity()["steps"] == 3
