"""Fonts and script runs: font file specs in, registered ReportLab faces and per-character face choices out.

A :class:`Face` is one font file (or one member of a collection) registered with ReportLab, with fast
advance-width lookup in em units.  A :class:`Family` groups the four styles; a :class:`FontStack` holds an
ordered fallback chain per script (Latin, CJK, monospace) and answers "which face draws this character"
the way Chinese typesetting expects: Latin letters and digits inside Chinese text use the Latin face,
full-width punctuation uses the CJK face, and the ambiguous marks (“” ‘’ — … ·) follow the paragraph
language.  OpenType fonts with CFF outlines, which ReportLab cannot embed, are converted once to TrueType
outlines into a per-user cache.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import functools
from dataclasses import dataclass, field, replace
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError

from docgen.errors import FontError
from docgen.typeset import fontcache

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "fonts"
SYSTEM_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")

# Renders run on many threads at once (docgen.render is called from services).  Everything loaded lazily
# and shared between renders is loaded under a lock, checked again inside it, and published only when
# complete; the hot paths (advance widths, cmap lookups, cached ink boxes) read finished dicts unlocked.
_lock = threading.RLock()                            # registration with ReportLab's global font registry
_faces: dict[tuple[str, int], "Face"] = {}          # (real path, subfont index) -> registered face
_outlines: dict[tuple[str, int], "_Outlines"] = {}  # (path, subfont index) -> fontTools view of the glyphs


def cache_dir() -> Path:
    """Where converted fonts live: ``fonts`` in :func:`docgen._io.user_cache_root` (``$DOCGEN_CACHE_DIR``)."""
    from docgen._io import user_cache_root

    return user_cache_root() / "fonts"


# Full-width punctuation whose blank half may be squeezed out (CLREQ 3.1.6, punctuation width adjustment).
# Which half is blank depends on the font's design (GB style puts ，。：；！？ at the left, Taiwan style
# centres them), so the usable amount is measured from the glyph outline, never assumed.
CJK_PUNCT = set("、，。．：；！？‘’“”「」『』（）〔〕［］｛｝【】〖〗〘〙〚〛《》〈〉")


@dataclass(frozen=True, eq=False)
class Face:
    """One registered font face.  Metrics are in em units (1.0 = the font size)."""

    name: str                        # ReportLab font name, unique per path + subfont index
    path: str
    synthetic_bold: bool = False     # embolden a single-weight font by filling and stroking the outline
    index: int = 0                   # subfont index in a TTC
    _adv: dict = field(default_factory=dict, repr=False, compare=False)
    _blank: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        font = _registered(self.name, self.path, self.index)
        object.__setattr__(self, "reportlab_font", font)  # the ReportLab TTFont (textobject.py encodes with it)
        object.__setattr__(self, "_tt", font.face)
        object.__setattr__(self, "_widths", font.face.charWidths)
        object.__setattr__(self, "_cmap", font.face.charToGlyph)

    def covers(self, ch: str) -> bool:
        return ord(ch) in self._cmap

    def advance(self, ch: str) -> float:
        try:
            return self._adv[ch]
        except KeyError:
            w = self._widths.get(ord(ch), self._tt.defaultWidth) / 1000.0
            self._adv[ch] = w
            return w

    @functools.cached_property
    def ascent(self) -> float:
        return self._tt.ascent / 1000.0

    @functools.cached_property
    def descent(self) -> float:
        return -self._tt.descent / 1000.0          # positive, below the baseline

    def ink(self, ch: str) -> tuple[float, float, float, float] | None:
        """Glyph outline bounds (xmin, ymin, xmax, ymax) in em, or None for an empty or missing glyph."""
        if ch not in self._blank:
            self._blank[ch] = _glyph_bounds(self, ch)
        return self._blank[ch]

    def squeeze(self, ch: str) -> tuple[float, float]:
        """How much of a full-width punctuation mark's left and right side may be removed (em):
        0.5 on the side that is blank in this font, 0 otherwise (and 0 for proportional glyphs)."""
        key = ("sq", ch)
        if key not in self._blank:
            left = right = 0.0
            adv = self.advance(ch)
            if ch in CJK_PUNCT and adv > 0.9 and self.covers(ch):
                b = self.ink(ch)
                if b is not None:
                    if adv - b[2] >= 0.48:
                        right = 0.5
                    elif b[0] >= 0.48:
                        left = 0.5
            self._blank[key] = (left, right)
        return self._blank[key]

    def __repr__(self):
        return f"Face({self.name!r}{', synthetic bold' if self.synthetic_bold else ''})"


class _Outlines:
    """The glyph outlines of one font file, read with fontTools to measure ink boxes.

    fontTools decompiles tables and glyphs lazily and its TTFont is not thread-safe, so every access
    goes through ``lock``; callers cache what they measure (``Face.ink``), so the lock is taken once
    per distinct character and face, never per glyph drawn."""

    def __init__(self, path: str, index: int):
        from fontTools.ttLib import TTFont as FTFont
        self.lock = threading.Lock()
        with self.lock:
            self._tt = FTFont(path, fontNumber=index, lazy=True)
            self._cmap = self._tt.getBestCmap() or {}
            self._glyphs = self._tt.getGlyphSet()
            self._upm = self._tt["head"].unitsPerEm

    def bounds(self, ch: str):
        from fontTools.pens.boundsPen import BoundsPen
        gname = self._cmap.get(ord(ch))
        if gname is None:
            return None
        with self.lock:
            pen = BoundsPen(self._glyphs)
            self._glyphs[gname].draw(pen)
        if pen.bounds is None:
            return None
        return tuple(v / self._upm for v in pen.bounds)


def _outlines_of(path: str, index: int) -> _Outlines:
    key = (path, index)
    got = _outlines.get(key)
    if got is None:
        with _lock:
            got = _outlines.get(key)
            if got is None:
                got = _outlines[key] = _Outlines(path, index)
    return got


def _glyph_bounds(face: Face, ch: str):
    known = getattr(getattr(face, "_tt", None), "docgen_ink", None)   # measured once, on disk (fontcache.py)
    if known is not None and ch in known:
        return known[ch]
    return _outlines_of(face.path, face.index).bounds(ch)


def _registered(name: str, path: str, index: int):
    """The ReportLab font registered as ``name``, registering ``path`` under that name first if needed."""
    font = _lookup(name)
    if font is not None:
        return font
    with _lock:
        font = _lookup(name)
        if font is not None:
            return font
        _register(name, path, index)
        return pdfmetrics.getFont(name)


def _lookup(name: str):
    # not getFont's KeyError: on a miss it first searches the disk for a Type 1 font of that name,
    # parsing every AFM file it finds (0.7 s of a cold render)
    return pdfmetrics.getFont(name) if name in pdfmetrics.getRegisteredFontNames() else None


def _register(name: str, path: str, index: int):
    try:
        font = fontcache.ttfont(name, path, index)        # TTFont(…), its parsed tables kept on disk
    except (TTFError, OSError, ValueError, IndexError, KeyError) as e:
        raise FontError(f"cannot use font {path}" + (f" (subfont {index})" if index else "") + f": {e}") from e
    pdfmetrics.registerFont(font)
    return font


def _resolve(spec: str | Path, base_dir: Path | None) -> Path:
    p = Path(spec).expanduser()
    tried = []
    if p.is_absolute():
        tried.append(p)
    else:
        if base_dir is not None:
            tried.append(Path(base_dir) / p)
        tried.append(BUNDLED_DIR / p)
        tried.append(p)
    for cand in tried:
        if cand.is_file():
            return cand.resolve()
    raise FontError(f"font file not found: {spec} (looked for " + ", ".join(str(t) for t in tried) + ")")


def _outline_kind(path: Path, index: int) -> str:
    """'truetype', 'cff' or 'woff' from the sfnt header (file suffixes lie)."""
    with open(path, "rb") as f:
        tag = f.read(4)
        if tag == b"ttcf":
            f.seek(8)
            n = int.from_bytes(f.read(4), "big")
            if not 0 <= index < n:
                raise FontError(f"font collection {path} has {n} fonts; subfont index {index} does not exist")
            f.seek(12 + 4 * index)
            f.seek(int.from_bytes(f.read(4), "big"))
            tag = f.read(4)
    if tag in (b"\x00\x01\x00\x00", b"true"):
        return "truetype"
    if tag == b"OTTO":
        return "cff"
    if tag in (b"wOFF", b"wOF2"):
        return "woff"
    raise FontError(f"not a TrueType/OpenType font: {path}")


def _convert_to_truetype(src: Path, index: int) -> Path:
    """TrueType-outline copy of a CFF (or WOFF) font in the cache, keyed by the source's content."""
    h = hashlib.sha256()
    with open(src, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    out_dir = cache_dir()
    dst = out_dir / f"{src.stem}-{h.hexdigest()[:24]}-{index}.ttf"
    if dst.is_file():
        return dst
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".tmp")
    os.close(fd)
    try:
        _write_truetype(src, index, tmp)
        os.replace(tmp, dst)              # atomic: a concurrent reader sees no file or the whole file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dst


def _write_truetype(src: Path, index: int, out: str) -> None:
    """Write ``src`` (member ``index``) to ``out`` with quadratic TrueType outlines and no WOFF wrapper."""
    from fontTools.ttLib import TTFont as FTFont, newTable
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    try:
        font = FTFont(str(src), fontNumber=index)
        if "CFF2" in font:
            raise FontError(f"cannot use font {src}: variable CFF2 fonts are not supported; use a static instance")
        if "CFF " in font:
            upm = font["head"].unitsPerEm
            glyph_set = font.getGlyphSet()
            order = font.getGlyphOrder()
            glyf = newTable("glyf")
            glyf.glyphOrder = order
            glyf.glyphs = {}
            for gname in order:
                pen = TTGlyphPen(None)
                # cubic -> quadratic within 1/1000 em; PostScript winding is the reverse of TrueType's
                glyph_set[gname].draw(Cu2QuPen(pen, max_err=upm / 1000, reverse_direction=True))
                glyf[gname] = pen.glyph()
            font["glyf"] = glyf
            font["loca"] = newTable("loca")
            maxp = font["maxp"]
            maxp.tableVersion = 0x00010000
            for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                         "maxStackElements", "maxSizeOfInstructions", "maxComponentElements", "maxComponentDepth"):
                setattr(maxp, attr, 1 if attr == "maxZones" else 0)
            for tag in ("CFF ", "VORG"):
                if tag in font:
                    del font[tag]
            font["head"].glyphDataFormat = 0
            font["post"].formatType = 3.0
            font.sfntVersion = "\x00\x01\x00\x00"
        font.flavor = None
        font.save(out)
    except FontError:
        raise
    except Exception as e:  # fontTools raises many kinds for damaged files
        raise FontError(f"cannot convert font {src} to TrueType outlines: {e}") from e


def _face_name(path: Path, index: int) -> str:
    stem = re.sub(r"[^A-Za-z0-9-]", "", path.stem)[:40] or "font"
    return f"{stem}-{hashlib.sha1(f'{path}#{index}'.encode()).hexdigest()[:8]}"


def load_face(spec: str | Path, base_dir: Path | None = None, *, index: int = 0) -> Face:
    """Register a font file with ReportLab (once per process) and return its face.

    ``spec`` is a bundled file name, a path relative to ``base_dir`` or an absolute path; ``index`` picks
    the member of a TTC/OTC collection.  CFF-outline fonts are converted to TrueType outlines once."""
    path = _resolve(spec, base_dir)
    key = (str(path), index)
    face = _faces.get(key)
    if face is not None:
        return face
    with _lock:
        face = _faces.get(key)
        if face is not None:
            return face
        kind = _outline_kind(path, index)
        usable, usable_index = path, index
        if kind != "truetype":
            usable, usable_index = _convert_to_truetype(path, index), 0
        name = _face_name(path, index)
        _registered(name, str(usable), usable_index)
        face = Face(name, str(usable), index=usable_index)
        _faces[key] = face
        return face


@dataclass(frozen=True)
class Family:
    """The four styles of one typeface; a missing style falls back to the regular face."""

    regular: Face
    bold: Face
    italic: Face
    bold_italic: Face

    def pick(self, bold: bool, italic: bool) -> Face:
        if bold:
            return self.bold_italic if italic else self.bold
        return self.italic if italic else self.regular


def family(regular, bold=None, italic=None, bold_italic=None, base_dir=None) -> Family:
    """A family from font file specs.  Without a bold file the regular face is emboldened (fill + stroke);
    without an italic the upright face is used, as Chinese typefaces have no italic."""
    reg = regular if isinstance(regular, Face) else load_face(regular, base_dir)

    def load(spec):
        return spec if (spec is None or isinstance(spec, Face)) else load_face(spec, base_dir)

    b, i, bi = load(bold), load(italic), load(bold_italic)
    b = b or replace(reg, synthetic_bold=True)
    i = i or reg
    if bi is None:
        bi = b if bold is not None else (replace(i, synthetic_bold=True) if italic is not None else b)
    return Family(reg, b, i, bi)


def script_of(ch: str) -> str:
    """'cjk' (Han, kana, Hangul, CJK and full-width punctuation), 'latin' (Latin, Greek, Cyrillic, digits,
    ASCII punctuation and other Western symbols) or 'common' (whitespace and the punctuation East Asian
    and Western text share: “” ‘’ — … ·, which follow the paragraph's language)."""
    o = ord(ch)
    if o < 0x80:
        return "common" if ch.isspace() else "latin"
    if ch in _COMMON or ch.isspace():
        return "common"
    if (0x2E80 <= o <= 0xA4CF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF or 0xFE10 <= o <= 0xFE1F
            or 0xFE30 <= o <= 0xFE4F or 0xFF00 <= o <= 0xFFEF or 0x1B000 <= o <= 0x1B16F
            or 0x20000 <= o <= 0x3FFFF or 0x1100 <= o <= 0x11FF):
        return "cjk"
    return "latin"


_COMMON = set("“”‘’—…·⋯⸺\u00a0")


@dataclass(frozen=True)
class FontStack:
    """Ordered fallback chains per script; ``face_for`` picks the face that draws each character."""

    latin: tuple[Family, ...]
    cjk: tuple[Family, ...]
    mono: Family | None = None
    allow_system: bool = False       # last resort: CJK fonts installed under /usr/share/fonts
    _cache: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    def __hash__(self):
        # every text style carries its stack and styles key the breaker's caches: hash the families once
        h = self._cache.get("__hash__")
        if h is None:
            h = self._cache["__hash__"] = hash((self.latin, self.cjk, self.mono, self.allow_system))
        return h

    def face_for(self, ch: str, bold=False, italic=False, mono=False, lang: str = "zh") -> Face | None:
        """The face for ``ch``; None when no font covers it (the caller warns, naming the character)."""
        key = (ch, bold, italic, mono, lang)
        try:
            return self._cache[key]
        except KeyError:
            pass
        face = self._find(ch, bold, italic, mono, lang)
        self._cache[key] = face
        return face

    def _find(self, ch, bold, italic, mono, lang):
        if mono and self.mono is not None:
            f = self.mono.pick(bold, italic)
            if f.covers(ch):
                return f
        script = script_of(ch)
        if script == "common":
            script = "cjk" if lang == "zh" else "latin"
        chains = (self.cjk, self.latin) if script == "cjk" else (self.latin, self.cjk)
        for chain in chains:
            for fam in chain:
                f = fam.pick(bold, italic)
                if f.covers(ch):
                    return f
                if f is not fam.regular and fam.regular.covers(ch):
                    # the style's file lacks the glyph: embolden the regular rather than switch typeface
                    return replace(fam.regular, synthetic_bold=bold) if bold else fam.regular
        if self.allow_system:
            for spec in _system_fonts():
                if _ft_covers(spec, ch):
                    try:
                        f = load_face(spec[0], index=spec[1])
                    except FontError:
                        continue
                    return replace(f, synthetic_bold=True) if bold else f
        return None


_system: list | None = None
_system_cmaps: dict = {}
_SYSTEM_CJK = re.compile(r"cjk|wqy|wenquanyi|droidsansfallback|ukai|uming|arphic|sourcehan|notoserifsc|"
                         r"notosanssc|fandol|lxgw|simsun|simhei|fang|kai", re.I)


def _system_fonts() -> list[tuple[str, int]]:
    """CJK fonts installed on this machine, by file name, as (path, subfont index) pairs."""
    global _system
    if _system is None:
        found = []
        for d in SYSTEM_FONT_DIRS:
            if d.is_dir():
                for p in sorted(d.rglob("*")):
                    if p.suffix.lower() in (".ttf", ".ttc", ".otf", ".otc") and _SYSTEM_CJK.search(p.name):
                        found.append((str(p), 0))
        _system = found
    return _system


def _ft_covers(spec: tuple[str, int], ch: str) -> bool:
    cmap = _system_cmaps.get(spec)
    if cmap is None:
        try:
            from fontTools.ttLib import TTFont as FTFont
            cmap = set(FTFont(spec[0], fontNumber=spec[1], lazy=True).getBestCmap() or ())
        except Exception:
            cmap = set()
        _system_cmaps[spec] = cmap
    return ord(ch) in cmap
