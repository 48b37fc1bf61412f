"""Compiled layout templates kept across processes (docgen/layout/bytecode.py): a hit skips the compiler,
anything else — a damaged entry, edited source, another environment, someone else's file — compiles again."""

import hashlib
import os
import sys

import jinja2
import pytest

from conftest import ROOT

import docgen.layout as L
from docgen.errors import LayoutError
from docgen.layout import bytecode
from docgen.spec.load import load_text


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DOCGEN_TEMPLATE_CACHE", raising=False)
    L._environment.cache_clear()
    yield tmp_path / "cache" / "templates"
    L._environment.cache_clear()


@pytest.fixture
def compiles(monkeypatch):
    """The names of the templates Jinja compiled from source."""
    seen = []
    real = jinja2.Environment.compile

    def compile(self, source, name=None, filename=None, *a, **k):
        seen.append(name)
        return real(self, source, name, filename, *a, **k)

    monkeypatch.setattr(jinja2.Environment, "compile", compile)
    return seen


def layout(tmp_path, template: str, name="lay"):
    lay = tmp_path / name
    lay.mkdir(exist_ok=True)
    (lay / "theme.yaml").write_text(
        (ROOT / "layouts" / "report" / "theme.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (lay / "template.xml.j2").write_text(template, encoding="utf-8")
    return load_text(f"layout: ./{name}\nlanguages: [en]\nmeta: {{title: t}}\nbody:\n  - paragraph: hello\n")


TEMPLATE = (
    '<document template="body">{% for b in blocks %}<p>{{ t(b.text) }}</p><p>{{ t("n" ~ (6 * 7)) }}</p>'
    "{% endfor %}</document>"
)
HELLO = [["hello"], ["n42"]]


def texts(tree):
    return [[s.text for s in b.texts.get("*", b.texts.get("en", []))] for b in tree.blocks if hasattr(b, "texts")]


def fresh_build(doc, tmp_path):
    """As a new process would: no environment (and no template compiled in memory) yet."""
    L._environment.cache_clear()
    return L.build(doc, "en", tmp_path)[0]


def test_a_second_process_loads_the_compiled_template(tmp_path, cache, compiles):
    doc = layout(tmp_path, TEMPLATE)
    first = fresh_build(doc, tmp_path)
    assert compiles == ["template.xml.j2"] and len(list(cache.glob("*.j2c"))) == 1
    compiles.clear()
    second = fresh_build(doc, tmp_path)
    assert compiles == [] and texts(second) == texts(first)
    assert texts(first) == HELLO


def test_the_bundled_layouts_and_their_shared_macros_are_cached(tmp_path, cache, compiles):
    doc = load_text((ROOT / "examples" / "west-lake-guide.yaml").read_text(encoding="utf-8"))
    first = L.build(doc, "parallel", ROOT / "examples")[0]
    assert len(compiles) >= 2  # the layout's template and the shared ones it imports
    compiles.clear()
    L._environment.cache_clear()
    second = L.build(doc, "parallel", ROOT / "examples")[0]
    assert compiles == [] and repr(second.blocks) == repr(first.blocks)


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "garbage", "body"])
def test_a_damaged_entry_is_compiled_again_and_rewritten(tmp_path, cache, compiles, damage):
    doc = layout(tmp_path, TEMPLATE)
    fresh_build(doc, tmp_path)
    (entry,) = cache.glob("*.j2c")
    raw = entry.read_bytes()
    head = len(bytecode.MAGIC) + 32
    short = raw[head:-50]  # sealed as written, but Jinja's marshalled code in it cut short
    entry.write_bytes(
        {
            "flip": raw[:-10] + bytes([raw[-10] ^ 0x40]) + raw[-9:],
            "truncate": raw[: len(raw) // 2],
            "empty": b"",
            "garbage": os.urandom(len(raw)),
            "body": bytecode.MAGIC + hashlib.sha256(short).digest() + short,
        }[damage]
    )
    compiles.clear()
    assert texts(fresh_build(doc, tmp_path)) == HELLO
    assert compiles == ["template.xml.j2"]
    assert entry.read_bytes() == raw  # written again, whole
    compiles.clear()
    fresh_build(doc, tmp_path)
    assert compiles == []


def test_an_edited_template_is_compiled_again(tmp_path, cache, compiles):
    doc = layout(tmp_path, TEMPLATE)
    fresh_build(doc, tmp_path)
    doc = layout(tmp_path, TEMPLATE.replace("6 * 7", "6 * 8"))
    compiles.clear()
    assert texts(fresh_build(doc, tmp_path)) == [["hello"], ["n48"]]
    assert compiles == ["template.xml.j2"] and len(list(cache.glob("*.j2c"))) == 1  # replaced in place


def test_an_entry_from_another_environment_is_not_used(tmp_path, cache, compiles, monkeypatch):
    doc = layout(tmp_path, TEMPLATE)
    fresh_build(doc, tmp_path)
    # the sandbox intercepting other operators compiles other code: another fingerprint, another entry
    monkeypatch.setattr(L._LayoutEnvironment, "intercepted_binops", frozenset({"*", "**", "+"}))
    compiles.clear()
    fresh_build(doc, tmp_path)
    assert compiles == ["template.xml.j2"] and len(list(cache.glob("*.j2c"))) == 2


def test_the_fingerprint_names_what_the_code_depends_on():
    env = L._environment(ROOT / "layouts" / "report")
    fp = bytecode.fingerprint(env)
    assert jinja2.__version__ in fp and sys.implementation.cache_tag in fp and "_LayoutEnvironment" in fp
    assert bytecode.fingerprint(env.overlay(trim_blocks=False)) != fp


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership")
def test_an_entry_others_can_write_is_not_loaded(tmp_path, cache, compiles):
    doc = layout(tmp_path, TEMPLATE)
    fresh_build(doc, tmp_path)
    (entry,) = cache.glob("*.j2c")
    entry.chmod(0o646)
    compiles.clear()
    fresh_build(doc, tmp_path)
    assert compiles == ["template.xml.j2"]


def test_turned_off_it_writes_nothing(tmp_path, cache, compiles, monkeypatch):
    monkeypatch.setenv("DOCGEN_TEMPLATE_CACHE", "0")
    doc = layout(tmp_path, TEMPLATE)
    fresh_build(doc, tmp_path)
    fresh_build(doc, tmp_path)
    assert compiles == ["template.xml.j2"] * 2 and not cache.exists()


def test_an_unwritable_cache_is_not_an_error(tmp_path, cache, monkeypatch):
    (tmp_path / "cache").write_text("a file, not a folder")
    doc = layout(tmp_path, TEMPLATE)
    assert texts(fresh_build(doc, tmp_path)) == HELLO


@pytest.mark.parametrize(
    "expr, says",
    [
        ("{{ 'a' * 10**8 }}", "over the limit"),
        ("{{ 9 ** 99999999 }}", "too large a number"),
        ("{{ ''.__class__.__mro__ }}", "unsafe"),
        ("{{ t.__globals__ }}", "unsafe"),
    ],
)
def test_the_sandbox_holds_for_cached_code(tmp_path, cache, compiles, expr, says):
    doc = layout(
        tmp_path,
        f'<document template="body"><p>{{% if blocks|length > 5 %}}{expr}{{% endif %}}</p>'
        f"{{% for b in blocks %}}<p>{expr}</p>{{% endfor %}}</document>",
    )
    for _ in range(2):  # compiled, then loaded from the cache
        with pytest.raises(LayoutError, match=says):
            fresh_build(doc, tmp_path)
    assert compiles == ["template.xml.j2"]
