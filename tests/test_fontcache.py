"""The parsed-font cache (docgen/typeset/fontcache.py): ReportLab's parsed tables of a face on disk, read
back exactly, never trusted unverified, and the PDF byte for byte the same as without it."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
from reportlab.pdfbase.ttfonts import TTFont

from conftest import EXAMPLES, ROOT
from docgen.typeset import fontcache, fonts

FONT = str(fonts.BUNDLED_DIR / "NotoSansSC-Regular.ttf")
LATIN = str(fonts.BUNDLED_DIR / "NotoSerif-Italic.ttf")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.delenv("DOCGEN_FONT_CACHE", raising=False)
    return tmp_path / "c" / "fonts" / "parsed"


def same_face(cached, fresh):
    a, b = dict(vars(cached)), dict(vars(fresh))
    scale_a, scale_b = a.pop("_pdfScale"), b.pop("_pdfScale")
    a.pop("docgen_ink", None), b.pop("docgen_ink", None)
    assert a.keys() == b.keys()
    # glyph -> characters: tuples in the cache's faces (out of the garbage collector's way), lists in ReportLab's
    g2c_a, g2c_b = a.pop("glyphToChar"), b.pop("glyphToChar")
    assert {g: tuple(cs) for g, cs in g2c_a.items()} == {g: tuple(cs) for g, cs in g2c_b.items()}
    # ... and so are the glyph metrics and positions, which ReportLab only indexes
    for k in ("hmetrics", "glyphPos"):
        x, y = a.pop(k), b.pop(k)
        assert tuple(x) == tuple(y), k
    for k in a:
        assert a[k] == b[k] and type(a[k]) is type(b[k]), k
    assert [scale_a(x) for x in (0, 1, 555, 2048)] == [scale_b(x) for x in (0, 1, 555, 2048)]
    assert a["name"].ustr == b["name"].ustr


@pytest.mark.parametrize("path", [FONT, LATIN])
def test_a_cached_face_is_what_reportlab_parses(cache, path):
    first = fontcache.ttfont("F1", path)  # parsed, entry written
    [entry] = cache.iterdir()
    second = fontcache.ttfont("F2", path)  # read back
    fresh = TTFont("F2", path)
    same_face(second.face, fresh.face)
    assert all(type(cs) is tuple for cs in second.face.glyphToChar.values())
    assert vars(second).keys() == vars(fresh).keys()  # what TTFont.__init__ sets, and nothing else
    assert (second.fontName, second._asciiReadable, second.shapable) == (
        fresh.fontName,
        fresh._asciiReadable,
        fresh.shapable,
    )
    assert first.face.docgen_ink == second.face.docgen_ink
    outlines = fonts._Outlines(path, 0)
    assert second.face.docgen_ink and all(outlines.bounds(c) == b for c, b in second.face.docgen_ink.items())


def test_an_entry_is_data_behind_a_digest(cache):
    fontcache.ttfont("F1", FONT)
    [entry] = cache.iterdir()
    raw = entry.read_bytes()
    assert raw.startswith(fontcache.MAGIC)
    digest, body = raw[len(fontcache.MAGIC) : len(fontcache.MAGIC) + 32], raw[len(fontcache.MAGIC) + 32 :]
    assert hashlib.sha256(body).digest() == digest
    n = int.from_bytes(body[:8], "little")
    header = json.loads(body[8 : 8 + n])  # plain JSON, no pickle anywhere
    data = open(FONT, "rb").read()
    assert header["key"] == entry.stem == fontcache.entry_key(data, 0)


@pytest.mark.parametrize("damage", ["flip", "truncate", "magic", "empty"])
def test_a_damaged_entry_is_a_miss_and_is_written_again(cache, damage):
    fontcache.ttfont("F1", FONT)
    [entry] = cache.iterdir()
    raw = bytearray(entry.read_bytes())
    if damage == "flip":
        raw[len(raw) // 2] ^= 0xFF
    elif damage == "truncate":
        raw = raw[: len(raw) // 3]
    elif damage == "magic":
        raw[:4] = b"XXXX"
    else:
        raw = bytearray()
    entry.write_bytes(bytes(raw))
    assert fontcache._read(entry, entry.stem, FONT, open(FONT, "rb").read()) is None
    font = fontcache.ttfont("F2", FONT)
    same_face(font.face, TTFont("F3", FONT).face)
    assert fontcache._read(entry, entry.stem, FONT, open(FONT, "rb").read()) is not None  # rewritten whole


def test_an_entry_of_another_file_is_never_read_for_this_one(cache, tmp_path):
    copy = tmp_path / "f.ttf"
    shutil.copy(FONT, copy)
    assert fontcache.ttfont("A", str(copy)).face.familyName.ustr == "Noto Sans SC"
    shutil.copy(LATIN, copy)  # the same path, another font
    font = fontcache.ttfont("B", str(copy))
    assert font.face.familyName.ustr == "Noto Serif" and font.face.filename == str(copy)
    assert len(list(cache.iterdir())) == 2  # keyed by content, not by path


def test_an_unwritable_cache_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(blocker))
    same_face(fontcache.ttfont("F1", FONT).face, TTFont("F2", FONT).face)


def render_in_fresh_process(out, env):
    subprocess.run(
        [sys.executable, "-m", "docgen", "render", str(EXAMPLES / "west-lake-guide.yaml"), "-o", str(out), "-q"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


@pytest.mark.slow
def test_the_pdf_is_the_same_with_and_without_the_cache(tmp_path):
    env = {
        **os.environ,
        "DOCGEN_CACHE_DIR": str(tmp_path / "c"),
        "SOURCE_DATE_EPOCH": "1767225600",
        "DOCGEN_BACKEND": "draft",
    }
    written = render_in_fresh_process(tmp_path / "a.pdf", env)  # entries written
    assert len(list((tmp_path / "c" / "fonts" / "parsed").iterdir())) >= 10
    read = render_in_fresh_process(tmp_path / "b.pdf", env)  # entries read
    off = render_in_fresh_process(tmp_path / "c.pdf", {**env, "DOCGEN_FONT_CACHE": "0"})
    assert written == read == off


def test_the_glyph_table_is_rebuilt_exactly_whatever_the_characters_per_glyph():
    # glyphs with several characters, none, a single glyph, at the start and the end: each its own run
    from array import array

    cases = [
        (([5], [1], [65]), {5: (65,)}),
        (([5], [3], [65, 66, 67]), {5: (65, 66, 67)}),
        (([1, 2, 3], [2, 1, 3], [10, 11, 20, 30, 31, 32]), {1: (10, 11), 2: (20,), 3: (30, 31, 32)}),
        (([1, 2, 3], [1, 0, 1], [7, 8]), {1: (7,), 2: (), 3: (8,)}),
        (([], [], []), {}),
    ]
    for (keys, lens, flat), expected in cases:
        arrays = (array("q", keys), array("q", lens), array("q", flat))
        assert fontcache._glyph_to_char(arrays) == expected, (keys, lens, flat)


def test_a_cached_faces_glyph_table_fills_at_its_first_use_from_any_thread(cache):
    # glyphToChar (read only by ReportLab's HarfBuzz shaping) is built when first used, whichever dict
    # method uses it, once, and completely before any thread reads it
    import threading

    fontcache.ttfont("F1", FONT)
    fresh = {g: tuple(cs) for g, cs in TTFont("F0", FONT).face.glyphToChar.items()}
    for use in (
        lambda t: dict(t),
        lambda t: len(t),
        lambda t: sorted(t),
        lambda t: t.get(3),
        lambda t: t == fresh,
        lambda t: 3 in t,
        lambda t: list(t.items()),
    ):
        table = fontcache.ttfont("F2", FONT).face.glyphToChar
        assert dict.__len__(table) == 0  # not built yet
        use(table)
        assert dict.__len__(table) == len(fresh) and table == fresh
    table = fontcache.ttfont("F3", FONT).face.glyphToChar
    seen, start = [], threading.Barrier(8)

    def read():
        start.wait()
        seen.append(len(table))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [len(fresh)] * 8
