"""Parsed TrueType tables on disk: a font file in, the ReportLab ``TTFont`` it makes out, without parsing
the file again in every process, and the ink boxes docgen measures on its punctuation without
reading the outlines with fontTools.

ReportLab's ``TTFontFile`` reads a face's tables (names, metrics, the cmap, advance widths, glyph
offsets) when a font is registered; a cold render registering the 15 bundled faces spends about a third
of a second on it.  What it reads is kept here, one entry per face::

    <cache>/fonts/parsed/<key>.rltt

``key`` is the sha256 of this module's format, docgen's and ReportLab's versions, the byte order, the
subfont index, and the font file's size and sha256 — a changed font file, a new docgen or a new
ReportLab never reads an old entry.  The entry is never code (no pickle): a header of plain JSON values
(tagged for bytes, tuples and integer-keyed mappings), the ink boxes, and the five large tables as arrays of machine
integers or floats, behind a magic string and the sha256 of everything after it.  An entry that does not
verify, or does not decode to exactly what ReportLab needs, is a miss: the font is parsed as before
and the entry written again (atomically, :func:`docgen._io.write_sealed`).  The file's bytes are read
for the key in any case: ReportLab keeps them to embed the subset.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import threading
from array import array
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

FORMAT = 3
MAGIC = b"DGRLTT1\n"
_ARRAYS = ("charToGlyph", "charWidths", "glyphToChar", "hmetrics", "glyphPos")  # the large tables


class _Uncacheable(Exception):
    """A face holds something this format does not write (a newer ReportLab): parse it every time."""


def folder() -> Path:
    from docgen._io import user_cache_root

    return user_cache_root() / "fonts" / "parsed"


def enabled() -> bool:
    return os.environ.get("DOCGEN_FONT_CACHE", "1") != "0"


def ttfont(name: str, path: str, index: int = 0):
    """ReportLab's ``TTFont(name, path, subfontIndex=index)``, its parsed tables read from the cache when
    an entry for this file's content is there (and written there when not)."""
    from reportlab.pdfbase.ttfonts import TTFont

    if not enabled():
        return TTFont(name, path, subfontIndex=index)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return TTFont(name, path, subfontIndex=index)  # ReportLab's own error for the file
    key = entry_key(data, index)
    entry = folder() / f"{key}.rltt"
    face = _read(entry, key, path, data)
    if face is None:
        font = TTFont(name, path, subfontIndex=index)
        font.face.docgen_ink = _ink_of(font.face, path, index)
        _write(entry, key, font.face)
        return font
    return _font_of(name, face)


def _ink_of(face, path: str, index: int) -> dict[str, tuple | None]:
    """The ink boxes docgen measures (full-width punctuation, the hyphen; Latin letters and the general
    punctuation of Latin text — dashes, quotes, the ellipsis —, whose ink may reach past the advance at a
    line end) of the characters this face has, from the outlines as
    :func:`docgen.typeset.fonts._glyph_bounds` measures them (fontTools: once, here)."""
    from docgen.typeset import fonts

    latin = {chr(c) for c in range(0x21, 0x7F)} | {chr(c) for c in range(0xC0, 0x100)}
    latin |= {chr(c) for c in range(0x2010, 0x2027)} | {chr(c) for c in range(0x2030, 0x203B)} | set("⋯⸺")
    chars = sorted(fonts.CJK_PUNCT | {"-"} | latin)
    if not any(ord(c) in face.charToGlyph for c in chars):
        return {}
    try:
        outlines = fonts._outlines_of(path, index)
        return {c: outlines.bounds(c) for c in chars if ord(c) in face.charToGlyph}
    except Exception:  # fontTools cannot read what ReportLab could: measured (and reported) when used
        return {}


def entry_key(data: bytes, index: int) -> str:
    import reportlab

    from docgen import __version__

    parts = {
        "format": FORMAT,
        "docgen": __version__,
        "reportlab": reportlab.Version,
        "byteorder": sys.byteorder,
        "index": index,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("ascii")).hexdigest()


def _font_of(name: str, face):
    """A TTFont around an already parsed face: what ``TTFont.__init__`` sets, the face not parsed again
    (tests/test_fontcache.py checks the attributes against ReportLab's own constructor)."""
    from reportlab import rl_config
    from reportlab.pdfbase.ttfonts import TTEncoding, TTFont, unShapedFontGlob

    font = TTFont.__new__(TTFont)
    font.fontName = name
    font.face = face
    font.encoding = TTEncoding()
    font.state = WeakKeyDictionary()
    font._asciiReadable = rl_config.ttfAsciiReadable
    font.shapable = not any(fnmatch(name, g) for g in unShapedFontGlob)
    return font


# ---- the entry: header JSON + arrays ------------------------------------------------------------------------


def _encode(v: Any) -> Any:
    from reportlab.pdfbase.ttfonts import TTFNameBytes

    if v is None or isinstance(v, (bool, int, float, str)) and type(v) in (bool, int, float, str):
        return v
    if type(v) is TTFNameBytes:
        return {"$n": bytes(v).hex(), "u": v.ustr}
    if type(v) is bytes:
        return {"$b": v.hex()}
    if type(v) is tuple:
        return {"$t": [_encode(x) for x in v]}
    if type(v) is list:
        return [_encode(x) for x in v]
    if type(v) is dict:
        return {"$d": [[_encode(k), _encode(x)] for k, x in v.items()]}
    raise _Uncacheable(type(v).__name__)


def _decode(v: Any) -> Any:
    t = type(v)
    if t is list:
        return [_decode(x) for x in v]
    if t is not dict:
        return v
    if "$n" in v:
        from reportlab.pdfbase.ttfonts import TTFNameBytes

        out = bytes.__new__(TTFNameBytes, bytes.fromhex(v["$n"]))
        out.ustr = v["u"]
        return out
    if "$b" in v:
        return bytes.fromhex(v["$b"])
    if "$t" in v:
        return tuple(_decode(x) for x in v["$t"])
    if "$d" in v:
        return {_decode(k): _decode(x) for k, x in v["$d"]}
    raise ValueError("unknown tag")


def _ints(values, what: str) -> array:
    if not all(type(x) is int for x in values):
        raise _Uncacheable(what)
    return array("q", values)


def _tables(face) -> dict[str, list[array]]:
    """The large tables as arrays (an _Uncacheable when one is not of the shape this format writes)."""
    c2g, widths, g2c = face.charToGlyph, face.charWidths, face.glyphToChar
    if all(type(x) is int for x in widths.values()):
        w = array("q", widths.values())
    elif all(type(x) is float for x in widths.values()):
        w = array("d", widths.values())
    else:
        raise _Uncacheable("charWidths")
    if not all(type(x) is tuple and len(x) == 2 for x in face.hmetrics):
        raise _Uncacheable("hmetrics")
    if not all(type(x) is list for x in g2c.values()):
        raise _Uncacheable("glyphToChar")
    return {
        "charToGlyph": [_ints(c2g.keys(), "charToGlyph"), _ints(c2g.values(), "charToGlyph")],
        "charWidths": [_ints(widths.keys(), "charWidths"), w],
        "glyphToChar": [
            _ints(g2c.keys(), "glyphToChar"),
            _ints([len(x) for x in g2c.values()], "glyphToChar"),
            _ints([c for x in g2c.values() for c in x], "glyphToChar"),
        ],
        "hmetrics": [
            _ints([a for a, _ in face.hmetrics], "hmetrics"),
            _ints([b for _, b in face.hmetrics], "hmetrics"),
        ],
        "glyphPos": [_ints(face.glyphPos, "glyphPos")],
    }


def _write(entry: Path, key: str, face) -> None:
    """Write the entry; a face this format cannot hold, or a cache folder that cannot be written, is not
    an error (the next process parses the font again)."""
    from docgen._io import write_sealed

    try:
        skip = ("_ttf_data", "_pdfScale", "docgen_ink", *_ARRAYS)
        state = {k: _encode(v) for k, v in vars(face).items() if k not in skip}
        ink = {c: list(b) if b is not None else None for c, b in face.docgen_ink.items()}
        arrays = _tables(face)
    except _Uncacheable:
        return
    layout = [[name, a.typecode, len(a)] for name, group in arrays.items() for a in group]
    header = json.dumps({"key": key, "state": state, "ink": ink, "arrays": layout}, ensure_ascii=True).encode("ascii")
    body = len(header).to_bytes(8, "little") + header + b"".join(a.tobytes() for g in arrays.values() for a in g)
    write_sealed(entry, MAGIC, body)


def _read(entry: Path, key: str, path: str, data: bytes):
    """The parsed face of a verified entry, or None (no entry, or one that does not verify or decode)."""
    from docgen._io import read_sealed

    body = read_sealed(entry, MAGIC)
    if body is None:
        return None
    try:
        n = int.from_bytes(body[:8], "little")
        header = json.loads(bytes(body[8 : 8 + n]).decode("ascii"))
        if header.get("key") != key:
            return None
        pos = 8 + n
        arrays: dict[str, list[array]] = {}
        for name, typecode, count in header["arrays"]:
            if name not in _ARRAYS or typecode not in ("q", "d"):
                return None
            a = array(typecode)
            size = a.itemsize * count
            a.frombytes(body[pos : pos + size])
            if len(a) != count:
                return None
            pos += size
            arrays.setdefault(name, []).append(a)
        if pos != len(body) or set(arrays) != set(_ARRAYS):
            return None
        face = _face_of({k: _decode(v) for k, v in header["state"].items()}, arrays, path, data)
        face.docgen_ink = {c: tuple(b) if b is not None else None for c, b in header["ink"].items()}
        return face
    except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError):
        return None


class _LazyTable(dict):
    """A dict of a cached face that fills itself from the entry's arrays at its first use: ``glyphToChar``,
    which ReportLab reads only when it shapes text with HarfBuzz (docgen does not ask it to), and which
    costs ~6.5 ms to build for a CJK face.  Every dict method fills it first (under a lock: a second thread
    waits for the first one's filling).  The face itself stays ReportLab's own class."""

    __slots__ = ("_build",)

    def __init__(self, build):
        super().__init__()
        self._build = build

    def _fill(self) -> None:
        if self._build is not None:
            with _FILL_LOCK:
                if self._build is not None:
                    dict.update(self, self._build())
                    self._build = None


def _filled(method):
    def call(self, *args, **kwargs):
        self._fill()
        for a in args:  # another lazy table (a == b, a | b): its contents too
            if type(a) is _LazyTable:
                a._fill()
        return method(self, *args, **kwargs)

    call.__name__ = method.__name__
    return call


for _name in (
    "__getitem__",
    "__contains__",
    "__iter__",
    "__len__",
    "__eq__",
    "__ne__",
    "__repr__",
    "__reversed__",
    "__or__",
    "__ior__",
    "__setitem__",
    "__delitem__",
    "get",
    "setdefault",
    "items",
    "keys",
    "values",
    "copy",
    "pop",
    "popitem",
    "update",
    "clear",
):
    setattr(_LazyTable, _name, _filled(getattr(dict, _name)))
_LazyTable.__hash__ = None  # type: ignore[assignment]  # as dict's
_FILL_LOCK = threading.Lock()


def _glyph_to_char(arrays) -> dict[int, tuple[int, ...]]:
    """glyph -> its characters, from the entry's arrays (glyphs, how many characters each, the characters).
    Tuples, not ReportLab's lists: ReportLab only reads them (appending is its HarfBuzz shaping's), and tuples
    of ints leave the garbage collector's lists, where the ~30,000 of a CJK face were scanned at every full
    collection for the life of the process."""
    g_keys, g_lens, g_flat = arrays
    flat = g_flat.tolist()
    out: dict[int, tuple[int, ...]] = {}
    at = 0
    for g, n in zip(g_keys.tolist(), g_lens.tolist()):
        out[g] = tuple(flat[at : at + n])
        at += n
    return out


def _face_of(state: dict, arrays: dict[str, list[array]], path: str, data: bytes):
    from reportlab.pdfbase.ttfonts import TTFontFace

    face = TTFontFace.__new__(TTFontFace)
    vars(face).update(state)
    c2g_keys, c2g_values = arrays["charToGlyph"]
    w_keys, w_values = arrays["charWidths"]
    face.charToGlyph = dict(zip(c2g_keys.tolist(), c2g_values.tolist()))
    face.charWidths = dict(zip(w_keys.tolist(), w_values.tolist()))
    face.glyphToChar = _LazyTable(functools.partial(_glyph_to_char, arrays["glyphToChar"]))
    # ReportLab only indexes these two, when it writes a subset: the metrics as a tuple of pairs (out of the
    # garbage collector's lists, as above), the glyph offsets as the array read (indexed in C; no tuple of
    # ~10,000 ints to build)
    advances, bearings = arrays["hmetrics"]
    face.hmetrics = tuple(zip(advances.tolist(), bearings.tolist()))
    face.glyphPos = arrays["glyphPos"][0]
    if isinstance(state.get("tables"), list) and isinstance(state.get("table"), dict):
        face.table = {r["tag"]: r for r in face.tables}  # one record per table, as ReportLab shares them
    face._ttf_data = data
    face.filename = path  # the entry may come from a copy elsewhere
    mult = 1000 / face.unitsPerEm  # ReportLab's own scale (TTFontFile.extractInfo)
    face._pdfScale = lambda x: x * mult
    return face
