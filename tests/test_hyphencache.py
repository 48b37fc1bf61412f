"""The hyphenation-pattern cache (docgen/typeset/hyphencache.py): pyphen's parsed en_US patterns on disk,
the points found in them the same as pyphen's, an entry that does not verify ignored and written again."""

import re

import pyphen
import pytest

from conftest import ROOT
from docgen.typeset import hyphencache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.delenv("DOCGEN_HYPHEN_CACHE", raising=False)
    return tmp_path / "c" / "hyphenation"


def words() -> list[str]:
    found: set[str] = set()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "docgen").rglob("*.py"))]:
        found |= set(re.findall(r"[A-Za-z]{4,}", path.read_text(errors="replace")))
    return sorted(found) + ["hyphenation", "HYPHENATION", "Extraordinarily", "supercalifragilistic"]


def test_the_cached_patterns_give_pyphens_points(cache):
    first = hyphencache.hyphenator("en_US", 3, 3)
    assert isinstance(first, pyphen.Pyphen)  # a miss: pyphen parses, the entry is written
    (entry,) = cache.glob("*.json")
    cached = hyphencache.hyphenator("en_US", 3, 3)
    assert isinstance(cached, hyphencache.Hyphenator)
    reference = pyphen.Pyphen(lang="en_US", left=3, right=3)
    ws = words()
    assert len(ws) > 2000
    assert [cached.positions(w) for w in ws] == [reference.positions(w) for w in ws]
    assert [hyphencache.hyphenator("en_US", 2, 2).positions(w) for w in ws] == [
        pyphen.Pyphen(lang="en_US").positions(w) for w in ws
    ]


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[:-10],  # truncated
        lambda raw: raw[:-3] + b"x" + raw[-2:],  # a byte changed: the sha256 does not verify
        lambda raw: b"garbage",
        lambda raw: b"",
    ],
)
def test_a_corrupt_entry_is_ignored_and_rebuilt(cache, damage):
    hyphencache.hyphenator("en_US", 3, 3)
    (entry,) = cache.glob("*.json")
    good = entry.read_bytes()
    entry.write_bytes(damage(good))
    assert isinstance(hyphencache.hyphenator("en_US", 3, 3), pyphen.Pyphen)
    assert entry.read_bytes() == good
    assert isinstance(hyphencache.hyphenator("en_US", 3, 3), hyphencache.Hyphenator)


def test_a_verified_entry_that_does_not_decode_is_a_miss(cache):
    import hashlib
    import json

    hyphencache.hyphenator("en_US", 3, 3)
    (entry,) = cache.glob("*.json")
    key = entry.stem
    for patterns in ["ab 1", "ab x 1", "ab 1 ", "", 7]:
        body = json.dumps({"key": key, "patterns": patterns}).encode("ascii")
        entry.write_bytes(hyphencache.MAGIC + hashlib.sha256(body).digest() + body)
        assert hyphencache._read(entry, key) is None, patterns
    assert hyphencache._read(entry, "another key") is None


def test_the_cache_can_be_turned_off(cache, monkeypatch):
    monkeypatch.setenv("DOCGEN_HYPHEN_CACHE", "0")
    assert isinstance(hyphencache.hyphenator("en_US", 3, 3), pyphen.Pyphen)
    assert not cache.exists()


def test_an_unwritable_cache_is_not_an_error(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path / "file"))
    monkeypatch.delenv("DOCGEN_HYPHEN_CACHE", raising=False)
    assert hyphencache.hyphenator("en_US", 3, 3).positions("hyphenation") == [6]  # hyphen-ation


def test_nonstandard_hyphenation_is_not_cached():
    patterns = {"abc": (0, (1, 0, 1)), "c1f": (1, (pyphen.DataInt(1, ("ff=f", 1, 1)),))}
    assert hyphencache._encode(patterns) is None
    assert hyphencache._encode({"abc": (0, (1, 0, 1))}) == "abc 0 101"
