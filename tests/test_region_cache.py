"""The persistent image cache: keys, hits and misses, corruption, cross-process locking, LRU eviction."""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json
import multiprocessing
import time
from pathlib import Path

import pytest
from qwen_tiny import tiny_config, tiny_model_dir

from docgen.regions.base import RegionRequest
from docgen.regions.cache import RegionCache, cache_key, raw_request
from docgen.regions.draft import DraftBackend
from docgen.regions.qwen import QwenImageBackend


class SlowCountingBackend(DraftBackend):
    """Draft art that takes a while and leaves one line in ``log`` per picture it makes."""

    def __init__(self, log: Path, delay: float = 0.8):
        super().__init__(max_side=128)
        self.log, self.delay = log, delay

    def generate(self, requests):
        time.sleep(self.delay)
        with open(self.log, "a") as fh:
            fh.write(f"{os.getpid()}\n" * len(requests))
        return super().generate(requests)


def _fetch(root: str, log: str, out: str):
    cache = RegionCache(root)
    image = cache.get_or_generate(SlowCountingBackend(Path(log)), [RegionRequest(prompt="塔", width=96, height=64)])[0]
    Path(out).write_bytes(image.png)


@pytest.fixture
def tiny_backend(tmp_path):
    return QwenImageBackend(tiny_config(tiny_model_dir(), tmp_path / "cache"))


def test_key_covers_identity_and_request():
    request = RegionRequest(prompt="西湖", width=64, height=48, seed=1)
    identity = {"backend": "qwen-image", "steps": 50}
    key = cache_key(identity, request)
    assert len(key) == 64 and key == cache_key(dict(identity), RegionRequest(prompt="西湖", width=64, height=48, seed=1))
    assert key != cache_key({**identity, "steps": 8}, request)
    assert key != cache_key(identity, RegionRequest(prompt="西湖", width=64, height=48, seed=2))
    # The region id only names the region in reports; the same picture elsewhere is the same entry.
    assert key == cache_key(identity, RegionRequest(prompt="西湖", width=64, height=48, seed=1, region_id="x"))


def test_second_render_makes_no_pipeline_calls(tiny_backend, tmp_path):
    cache = RegionCache(tmp_path / "cache")
    requests = [RegionRequest(prompt="灯塔", width=64, height=48, seed=s) for s in (1, 2)]
    first = cache.get_or_generate(tiny_backend, requests)
    calls = tiny_backend.calls
    assert calls == 2 and cache.misses == 2
    second = cache.get_or_generate(tiny_backend, requests)
    assert tiny_backend.calls == calls                 # zero pipeline calls on a warm cache
    assert [i.png for i in second] == [i.png for i in first]
    assert second[0].info == first[0].info and cache.hits == 2
    # A fresh backend object (a new process) hits the same entries: the key needs no loaded model.
    fresh = QwenImageBackend(tiny_backend.config)
    cache.get_or_generate(fresh, requests)
    assert fresh.calls == 0
    sidecar = json.loads(next((tmp_path / "cache").glob("??/*.json")).read_text())
    assert "png" not in sidecar["image"] and sidecar["image"]["backend"] == "qwen-image"


def test_one_raw_picture_serves_every_frame_of_its_aspect(tiny_backend, tmp_path):
    """The raw picture is keyed by the generation size, not the frame's pixels: frames of one aspect
    (another edition, another layout) share one generation, each cropped to its own size."""
    cache = RegionCache(tmp_path / "cache")
    wide = RegionRequest(prompt="灯塔", width=640, height=480, seed=5, region_id="a")
    small = RegionRequest(prompt="灯塔", width=320, height=240, seed=5, region_id="b")
    first = cache.get_or_generate(tiny_backend, [wide])[0]
    second = cache.get_or_generate(tiny_backend, [small])[0]
    assert tiny_backend.calls == 1 and cache.misses == 1 and cache.hits == 1
    assert (first.width, first.height, second.width, second.height) == (640, 480, 320, 240)
    assert second.info["region_id"] == "b" and second.info["generated_size"] == first.info["generated_size"]
    both = RegionCache(tmp_path / "other").get_or_generate(tiny_backend, [wide, small])
    assert tiny_backend.calls == 2 and [i.width for i in both] == [640, 320]   # one call, one picture


def test_corrupted_entry_is_regenerated(tiny_backend, tmp_path):
    cache = RegionCache(tmp_path / "cache")
    request = RegionRequest(prompt="灯塔", width=64, height=48, seed=3)
    good = cache.get_or_generate(tiny_backend, [request])[0]
    key = cache_key(tiny_backend.identity(), raw_request(tiny_backend, request))   # the raw picture's key
    raw = cache.get(key).png
    png = tmp_path / "cache" / key[:2] / f"{key}.png"
    png.write_bytes(png.read_bytes()[:-20] + b"\0" * 20)       # flipped bytes: hash mismatch
    assert cache.get(key) is None
    repaired = cache.get_or_generate(tiny_backend, [request])[0]
    assert tiny_backend.calls == 2 and repaired.png == good.png
    assert cache.get(key).png == raw
    (tmp_path / "cache" / key[:2] / f"{key}.json").write_text("{not json")   # half-written sidecar
    assert cache.get(key) is None


def test_two_processes_generate_a_picture_once(tmp_path):
    log, ctx = tmp_path / "generated.log", multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_fetch, args=(str(tmp_path / "cache"), str(log), str(tmp_path / f"out{i}.png")))
             for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert len(log.read_text().splitlines()) == 1              # the second waited, then read
    assert (tmp_path / "out0.png").read_bytes() == (tmp_path / "out1.png").read_bytes()


def test_lru_eviction_under_a_tiny_cap(tmp_path):
    backend = DraftBackend(max_side=64)
    requests = [RegionRequest(prompt=f"p{i}", width=64, height=64, seed=i) for i in range(4)]
    images = backend.generate(requests)
    keys = [cache_key(backend.identity(), r) for r in requests]
    scratch = RegionCache(tmp_path / "scratch")
    for key, image in zip(keys, images):
        scratch.put(key, image)
    size = {k: scratch._meta(k).stat().st_size + scratch._png(k).stat().st_size for k in keys}
    cache = RegionCache(tmp_path / "cache", max_bytes=10**9)
    for age, (key, image) in enumerate(zip(keys[:3], images[:3])):
        cache.put(key, image)
        os.utime(cache._meta(key), (1000 + age, 1000 + age))    # 0 oldest … 2 newest
    assert cache.get(keys[0]) is not None                        # a hit makes 0 the most recent
    cache.max_bytes = size[keys[0]] + size[keys[2]] + size[keys[3]]   # room for three, not four
    cache.put(keys[3], images[3])
    assert cache.get(keys[1]) is None                            # least recently used went first
    assert all(cache.get(k) is not None for k in (keys[0], keys[2], keys[3]))
    info = cache.info()
    assert info.entries == 3 and info.bytes <= cache.max_bytes and info.path == str(tmp_path / "cache")
    assert cache.clear() == 3 and cache.info().entries == 0
