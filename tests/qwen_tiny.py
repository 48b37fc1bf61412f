"""A tiny random-weight Qwen-Image pipeline, built offline, for the tests of the ``qwen-image`` backend.

Same classes and topology as the real model, only smaller: a 2-layer Qwen2.5-VL text encoder (hidden 32,
one-block vision tower), a 2-layer QwenImageTransformer2DModel (2 heads × 16, in 64 / out 16 like the
real one), an AutoencoderKLQwenImage with the real [1, 2, 4, 4] / 8× layout but 16 base channels,
Qwen-Image's own scheduler config, and a byte-level BPE ``Qwen2Tokenizer`` trained here on a small
corpus.  :func:`build_tiny_pipeline` saves it with ``save_pretrained``, so the tests load it back through
the production ``load_pipeline`` exactly as real weights are loaded.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")     # nothing in these tests may reach a hub

# The system prefix of QwenImagePipeline.prompt_template_encode.  The pipeline drops the first
# prompt_template_encode_start_idx = 34 hidden states, so this prefix must be exactly 34 tokens, as it is
# with the real tokenizer: one token per pre-token (see test_tokenizer_drops_exactly_the_template).
TEMPLATE_PREFIX = ("<|im_start|>system\nDescribe the image by detailing the color, shape, size, texture, "
                   "quantity, text, spatial relationships of the objects and background:<|im_end|>\n"
                   "<|im_start|>user\n")
TEMPLATE_TOKENS = 34

# Qwen/Qwen-Image scheduler/scheduler_config.json.
SCHEDULER_CONFIG = {
    "base_image_seq_len": 256,
    "base_shift": 0.5,
    "invert_sigmas": False,
    "max_image_seq_len": 8192,
    "max_shift": 0.9,
    "num_train_timesteps": 1000,
    "shift": 1.0,
    "shift_terminal": 0.02,
    "stochastic_sampling": False,
    "time_shift_type": "exponential",
    "use_beta_sigmas": False,
    "use_dynamic_shifting": True,
    "use_exponential_sigmas": False,
    "use_karras_sigmas": False,
}

# Qwen2's pre-tokenisation (the same regex Qwen2Tokenizer installs).
_PRETOKENIZE = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
                r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")
_SPECIAL = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]

_CORPUS = [
    "system\nDescribe the image by detailing the color, shape, size, texture, quantity, text, "
    "spatial relationships of the objects and background:\nuser\nassistant\n",
] * 40 + [
    "西湖欢迎您，画面中清晰地写着。超清，4K，电影级构图。",
    "一张水墨风格的山水画，远处有塔，近处有船。",
    "A poster of West Lake at dawn, Ultra HD, 4K, cinematic composition.",
    "A watercolor illustration of a lighthouse, with the text clearly written.",
] * 4


def build_tokenizer():
    """A byte-level BPE Qwen2Tokenizer whose template prefix encodes to exactly 34 tokens."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_PRETOKENIZE), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    trainer = trainers.BpeTrainer(vocab_size=600, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>"])
    bpe.train_from_iterator(_CORPUS, trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    tokenizer = Qwen2Tokenizer(vocab=model["vocab"], merges=merges, additional_special_tokens=_SPECIAL)
    count = len(tokenizer(TEMPLATE_PREFIX).input_ids)
    assert count == TEMPLATE_TOKENS, f"template prefix encodes to {count} tokens, the pipeline drops 34"
    return tokenizer


def build_tiny_pipeline(dest: str | Path, seed: int = 0) -> Path:
    """Build the tiny pipeline with random weights (seeded) and ``save_pretrained`` it into ``dest``."""
    import torch
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImagePipeline,
        QwenImageTransformer2DModel,
    )
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    dest = Path(dest)
    tokenizer = build_tokenizer()
    token = tokenizer.convert_tokens_to_ids
    torch.manual_seed(seed)
    hidden = 32
    text_encoder = Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(
        text_config={
            "vocab_size": len(tokenizer), "hidden_size": hidden, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
            "max_position_embeddings": 2048,
            # head_dim 16 → 8 rotary frequencies, split over (time, height, width) as in Qwen2.5-VL.
            "rope_parameters": {"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 1e6},
            "bos_token_id": None, "eos_token_id": token("<|im_end|>"), "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config={"depth": 1, "hidden_size": 16, "intermediate_size": 32, "num_heads": 2,
                       "out_hidden_size": hidden, "fullatt_block_indexes": [0]},
        image_token_id=token("<|image_pad|>"), video_token_id=token("<|video_pad|>"),
        vision_start_token_id=token("<|vision_start|>"), vision_end_token_id=token("<|vision_end|>"),
    )).eval()
    transformer = QwenImageTransformer2DModel(
        patch_size=2, in_channels=64, out_channels=16, num_layers=2, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=hidden, axes_dims_rope=(4, 6, 6))
    vae = AutoencoderKLQwenImage(base_dim=16, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=1,
                                 temperal_downsample=[False, True, True])
    scheduler = FlowMatchEulerDiscreteScheduler(**SCHEDULER_CONFIG)
    pipe = QwenImagePipeline(scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                             transformer=transformer)
    pipe.save_pretrained(dest)
    return dest


def tiny_config(model_dir: str | Path, cache_dir: str | Path, **changes):
    """A ModelConfig for the tiny pipeline on the CPU: few steps, generation sizes scaled by 1/16."""
    from docgen.regions.config import ModelConfig

    values = dict(backend="qwen-image", model=str(model_dir), device="cpu", dtype="float32", memory_mode="none",
                  steps=3, size_scale=1 / 16, cache_dir=str(cache_dir), lightning_lora=None)
    values.update(changes)
    return ModelConfig(**values)


_BUILT: dict[str, Path] = {}


def tiny_model_dir() -> Path:
    """The tiny pipeline, built once per test process (every test module shares it), removed at exit."""
    if "dir" not in _BUILT:
        root = tempfile.mkdtemp(prefix="docgen-qwen-tiny-")
        atexit.register(shutil.rmtree, root, True)
        _BUILT["dir"] = build_tiny_pipeline(Path(root) / "Qwen-Image-tiny")
    return _BUILT["dir"]
