"""The backend registry: names in, backends out; the rest of docgen asks a backend's capabilities."""
import io
import subprocess
import sys

import pytest

import docgen
from docgen.errors import DocgenError
from docgen.regions import Capabilities, RegionImage, backend_names, generate_regions, get_backend, registry
from docgen.regions.base import RegionRequest
from docgen.regions.config import ModelConfig

SPEC = {
    "layout": "report", "languages": ["zh"],
    "meta": {"title": {"zh": "注册的后端"}, "date": "2026-11-28"},
    "body": [{"paragraph": {"zh": "一幅图。"}}, {"generate": {"prompt": "湖边的塔", "aspect": "4:3", "seed": 3}}],
}


class FlatBackend:
    """A plain colour per request; what it is depends on the capabilities a test gives it."""

    name = "mine"
    capabilities = Capabilities(generative=False, verify_text=False, cacheable=False, shared_process=False,
                                placeholder=True)

    def __init__(self, config=None):
        self.config = config
        self.calls = 0

    def identity(self) -> dict:
        return {"backend": self.name, "version": 1}

    def generate(self, requests):
        from PIL import Image
        self.calls += 1
        out = []
        for r in requests:
            buf = io.BytesIO()
            Image.new("RGB", (r.width, r.height), (r.seed % 256, 120, 200)).save(buf, format="PNG")
            out.append(RegionImage(png=buf.getvalue(), width=r.width, height=r.height, backend=self.name,
                                   placeholder=self.capabilities.placeholder,
                                   info={"seed": r.seed, "prompt_hash": r.prompt_hash(), "path": "flat"}))
        return out


class GenerativeFlat(FlatBackend):
    capabilities = Capabilities(generative=True, verify_text=True, cacheable=False, shared_process=False,
                                placeholder=False)


class CacheableFlat(FlatBackend):
    capabilities = Capabilities(generative=True, verify_text=False, cacheable=True, shared_process=False,
                                placeholder=False)


@pytest.fixture
def registered(monkeypatch):
    """Register backends for one test only."""
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    made = []

    def add(name, cls):
        def factory(config):
            made.append(cls(config))
            return made[-1]
        registry.register(name, factory)
        return made
    return add


def test_builtin_backends_are_registered():
    assert backend_names()[:2] == ("draft", "qwen-image")
    assert get_backend("draft")[0].capabilities.placeholder


def test_a_registered_backend_renders_through_the_registry(registered):
    made = registered("mine", FlatBackend)
    assert "mine" in backend_names()
    res = docgen.render(SPEC, backend="mine")
    assert len(made) == 1 and made[0].calls == 1
    assert [r["backend"] for r in res.regions] == ["mine"] and res.regions[0]["path"] == "flat"
    # the config names it too (DOCGEN_BACKEND, --backend, config.toml)
    assert isinstance(get_backend(config=ModelConfig(backend="mine"))[0], FlatBackend)


def test_a_non_cacheable_generative_backend_bypasses_the_cache(registered, tmp_path):
    registered("gen", GenerativeFlat)
    config = ModelConfig(backend="gen", cache_dir=str(tmp_path / "cache"))
    backend, _ = get_backend(config=config)
    requests = [RegionRequest(prompt="塔", width=64, height=48, seed=s, region_id=f"r{s}") for s in (1, 2)]
    first = generate_regions(requests, backend, config)
    again = generate_regions(requests, backend, config)
    assert backend.calls == 2 and [i.png for i in first] == [i.png for i in again]
    assert first[0].info["path"] == "no-text"              # still through verification: it is generative
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.png"))


def test_a_cacheable_backend_is_generated_once(registered, tmp_path):
    registered("cached", CacheableFlat)
    config = ModelConfig(backend="cached", cache_dir=str(tmp_path / "cache"))
    requests = [RegionRequest(prompt="塔", width=64, height=48, seed=1)]
    first_backend, _ = get_backend(config=config)
    generate_regions(requests, first_backend, config)
    second_backend, _ = get_backend(config=config)
    generate_regions(requests, second_backend, config)
    assert (first_backend.calls, second_backend.calls) == (1, 0)


def test_unknown_backend_names_the_registered_ones():
    with pytest.raises(DocgenError, match=r"backend: .*auto, draft, qwen-image") as caught:
        docgen.render(SPEC, backend="nope")
    assert "'nope'" in str(caught.value)
    with pytest.raises(DocgenError, match=r"unknown region backend 'nope' \(registered: auto, draft, qwen-image"):
        get_backend("nope", ModelConfig())
    with pytest.raises(DocgenError, match="reserved"):
        registry.register("auto", FlatBackend)


def test_importing_the_regions_stage_imports_no_torch():
    code = "import docgen, docgen.regions, docgen.regions.qwen, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
