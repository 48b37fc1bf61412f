"""Parsed layout themes kept across processes (docgen/layout/themecache.py): the same data, types and source
texts as the parser gives; a damaged entry is parsed again; errors stay the parser's."""

import datetime as dt
import os

import pytest

from conftest import ROOT

import docgen.layout as L
from docgen.errors import LayoutError, SpecError
from docgen.layout import themecache
from docgen.spec.load import parse_yaml

THEMES = sorted((ROOT / "layouts").glob("*/theme.yaml"))
ODD = """
a: 0755
b: 1.10
c: [.inf, -.inf, .nan, +5, 0x1F, 0o17, -0]
d: 2026-11-20
e: {1: one, 2: [x, ~, true, false, "", '9:30']}
f: 中文
g: 1e3
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DOCGEN_THEME_CACHE", raising=False)
    L._THEME_DATA.clear()
    yield tmp_path / "cache" / "themes"
    L._THEME_DATA.clear()


def same(a, b) -> bool:
    """Equal, of the same types, numbers with the same source text (nan equal to nan)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(type(k) is type(j) for k, j in zip(a, b)) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b and a.source == b.source
    return a == b and getattr(a, "source", None) == getattr(b, "source", None)


@pytest.mark.parametrize(
    "text", [p.read_text(encoding="utf-8") for p in THEMES] + [ODD], ids=[p.parent.name for p in THEMES] + ["odd"]
)
def test_an_entry_gives_what_the_parser_gives(cache, text, monkeypatch):
    fresh = parse_yaml(text)[0]
    assert same(themecache.parsed(text, "t.yaml"), fresh)  # parsed, written
    assert len(list(cache.glob("*.json"))) == 1
    import docgen.spec.load as load

    calls = []
    real = load.parse_yaml
    monkeypatch.setattr(load, "parse_yaml", lambda *a: calls.append(a) or real(*a))
    assert same(themecache.parsed(text, "t.yaml"), fresh) and calls == []  # read back


@pytest.mark.parametrize("damage", [b"", b"garbage", None])
def test_a_damaged_entry_is_parsed_again(cache, damage):
    themecache.parsed(ODD, "t.yaml")
    (entry,) = cache.glob("*.json")
    raw = entry.read_bytes()
    entry.write_bytes(raw[:-3] + b"!!!" if damage is None else damage)
    assert same(themecache.parsed(ODD, "t.yaml"), parse_yaml(ODD)[0])
    assert entry.read_bytes() == raw


def test_a_sealed_entry_that_does_not_decode_is_parsed_again(cache):
    from docgen._io import write_sealed

    themecache.parsed(ODD, "t.yaml")
    (entry,) = cache.glob("*.json")
    for body in (b'{"x": 1}', b'{"m": [[["q", 1], 2]]}', b'{"i": ["zz", "1"]}', b"[", b'{"f": [1, 2]}'):
        write_sealed(entry, themecache.MAGIC, body)
        assert same(themecache.parsed(ODD, "t.yaml"), parse_yaml(ODD)[0])


def test_errors_are_the_parsers_and_not_cached(cache):
    with pytest.raises(SpecError, match=r"bad\.yaml:2"):
        themecache.parsed("a: 1\na: 2\n", "bad.yaml")
    assert not list(cache.glob("*.json")) if cache.exists() else True


def test_a_timestamp_with_a_time_is_not_cached(cache):
    data = themecache.parsed("when: 2026-01-01 10:00:00\n", "t.yaml")
    assert isinstance(data["when"], dt.datetime)
    assert not cache.exists() or not list(cache.glob("*.json"))


def test_turned_off(cache, monkeypatch):
    monkeypatch.setenv("DOCGEN_THEME_CACHE", "0")
    themecache.parsed(ODD, "t.yaml")
    assert not cache.exists()


def test_the_layout_stage_reads_a_theme_through_it(cache, tmp_path):
    folder = L.find("report")
    a = L._read_theme_data(folder)
    L._THEME_DATA.clear()
    assert len(list(cache.glob("*.json"))) == 1
    assert same(L._read_theme_data(folder), a)
    # a layout author's mistake is still reported from the file, with its line
    lay = tmp_path / "lay"
    lay.mkdir()
    (lay / "theme.yaml").write_text("paper: A4\npaper: A5\n", encoding="utf-8")
    with pytest.raises(LayoutError, match=r"theme\.yaml:2"):
        L._read_theme_data(lay)


def test_the_key_changes_with_the_text():
    assert themecache.entry_key("a: 1\n") != themecache.entry_key("a: 2\n")
    assert len(themecache.entry_key("")) == 64 and os.sep not in themecache.entry_key("x")
