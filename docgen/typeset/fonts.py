"""Fonts and script runs: font file specs in, registered ReportLab faces and per-character face choices out.

A :class:`Face` is one font file (or one member of a collection) registered with ReportLab, with fast
advance-width lookup in em units.  A :class:`Family` groups the four styles; a :class:`FontStack` holds an
ordered fallback chain per script (Latin, CJK, monospace) and answers "which face draws this character"
the way Chinese typesetting expects: Latin letters and digits inside Chinese text use the Latin face,
full-width punctuation uses the CJK face, and the ambiguous marks (“” ‘’ — … ·) follow the paragraph
language.  OpenType fonts with CFF outlines, which ReportLab cannot embed, are converted once to TrueType
outlines into a per-user cache.

A character no family of the stack covers is looked up by coverage (:func:`coverage_fallback`): in the
bundled fonts and, with ``allow_system``, in every installed font (fontconfig's list where ``fc-list`` is
there, else the platform's font folders), the fonts of the stack's own style class first (仿宋, 楷体,
serif, sans, mono).  The stack remembers which characters it so substituted, for the render's warnings.
A theme's typeface roles (公文 仿宋, 小标宋, 黑体, 楷体) are resolved here too (:func:`role_families`).
Emoji sequences are clusters (:func:`clusters`): one face draws a whole cluster.
"""
from __future__ import annotations

import bisect
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError

from docgen.errors import FontError
from docgen.spec.theme import is_windows_path, system_font_dirs
from docgen.typeset import fontcache

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "fonts"

# Renders run on many threads at once (docgen.render is called from services).  Everything loaded lazily
# and shared between renders is loaded under a lock, checked again inside it, and published only when
# complete; the hot paths (advance widths, cmap lookups, cached ink boxes) read finished dicts unlocked.
_lock = threading.RLock()                            # registration with ReportLab's global font registry
_faces: dict[tuple[str, int, int | None], "Face"] = {}   # (real path, subfont index, page) -> registered face
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
    source: str = ""                 # the file named (a CFF font's path is its TrueType copy's)
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
    # ReportLab (4.x) registers a second font file whose PostScript name is already registered as the
    # first one's face: two different files named alike (a licensed subset and the full font, a copy of a
    # bundled font) would draw one in the other.  The second gets a name of its own.
    same = getattr(pdfmetrics, "_dynFaceNames", {}).get(font.face.name)
    if same is not None and (same.face.filename, getattr(same.face, "subfontIndex", 0)) != (path, index):
        ps = font.face.name
        tag = hashlib.sha1(f"{path}#{index}".encode()).hexdigest()[:6]
        font.face.name = ps + (b"-" + tag.encode() if isinstance(ps, bytes) else f"-{tag}")
    if len(font.face.charToGlyph) > _LARGE_FACE:
        # a CJK face: its first 256-glyph subset holds its most used characters (see document._Doc), not
        # the ASCII ReportLab keeps there by default for readable PDF strings (the Latin face draws ASCII;
        # extraction reads every subset through its ToUnicode map)
        font._asciiReadable = False
    pdfmetrics.registerFont(font)
    return font


_LARGE_FACE = 1000           # characters: more than an alphabet's


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


def _content_hash(src: Path) -> str:
    st = src.stat()
    return _hash_of(str(src), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _hash_of(path: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:24]


def _convert_to_truetype(src: Path, index: int, page: int | None = None) -> Path:
    """TrueType-outline copy of a CFF (or WOFF) font in the cache, keyed by the source's content; with
    ``page``, only the characters U+page00–U+pageFF (what the coverage search needs of a large font:
    converting all 65,000 glyphs of a CJK collection takes a minute)."""
    out_dir = cache_dir()
    dst = out_dir / f"{src.stem}-{_content_hash(src)}-{index}{'' if page is None else f'-u{page:04X}xx'}.ttf"
    if dst.is_file():
        return dst
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".tmp")
    os.close(fd)
    try:
        _write_truetype(src, index, tmp, page)
        os.replace(tmp, dst)              # atomic: a concurrent reader sees no file or the whole file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dst


def _write_truetype(src: Path, index: int, out: str, page: int | None = None) -> None:
    """Write ``src`` (member ``index``; with ``page``, only its characters U+page00–U+pageFF) to ``out``
    with quadratic TrueType outlines and no WOFF wrapper."""
    from fontTools.ttLib import TTFont as FTFont, newTable
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    try:
        font = FTFont(str(src), fontNumber=index)
        if page is not None:
            from fontTools import subset
            opts = subset.Options()
            opts.name_IDs, opts.name_languages = ["*"], ["*"]
            opts.notdef_outline, opts.hinting, opts.layout_features = True, False, []
            sub = subset.Subsetter(opts)
            sub.populate(unicodes=[cp for cp in (font.getBestCmap() or {}) if cp >> 8 == page])
            sub.subset(font)
            # a PostScript name of its own: PDF viewers and ReportLab tell fonts apart by it
            ps = font["name"].getDebugName(6) or src.stem
            font["name"].setName(f"{ps}-U{page:04X}", 6, 3, 1, 0x409)
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


def load_face(spec: str | Path, base_dir: Path | None = None, *, index: int = 0, page: int | None = None) -> Face:
    """Register a font file with ReportLab (once per process) and return its face.

    ``spec`` is a bundled file name, a path relative to ``base_dir`` or an absolute path; ``index`` picks
    the member of a TTC/OTC collection.  CFF-outline fonts are converted to TrueType outlines once (with
    ``page``, only the characters U+page00–U+pageFF: a face for the coverage search)."""
    path = _resolve(spec, base_dir)
    key = (str(path), index, page)
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
            usable, usable_index = _convert_to_truetype(path, index, page), 0
        elif page is not None:                    # a TrueType font is used whole: one face for every page
            face = load_face(path, index=index)
            _faces[key] = face
            return face
        name = _face_name(path, index) + (f"-u{page:04X}" if page is not None else "")
        _registered(name, str(usable), usable_index)
        face = Face(name, str(usable), index=usable_index, source=f"{path}#{index}" if index else str(path))
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
    allow_system: bool = False       # the coverage search may use installed fonts, not only bundled ones
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
        face, substituted = self._find(ch, bold, italic, mono, lang)
        if substituted:
            self._cache[("sub",) + key] = True     # before the face: a reader that sees it sees this
        self._cache[key] = face
        return face

    def substituted(self, ch: str, bold=False, italic=False, mono=False, lang: str = "zh") -> bool:
        """Whether ``ch`` is drawn by a font outside this stack's chains (found by the coverage search)."""
        self.face_for(ch, bold, italic, mono, lang)
        return ("sub", ch, bold, italic, mono, lang) in self._cache

    def substitutions(self, text: str, bold=False, italic=False, mono=False,
                      lang: str = "zh") -> list[tuple[str, Face, Face | None]]:
        """(character, the face drawing it, the face that would have) for each distinct character of
        ``text`` drawn by a font outside this stack's chains, in order of first appearance."""
        key = ("subs", bold, italic, mono, lang)
        got = self._cache.get(key)
        if got is None:
            got = self._cache.setdefault(key, (set(), set()))
        seen, subs = got
        if not seen.issuperset(text):
            # substituted before seen: a render on another thread that finds a character seen finds it here
            new = set(text) - seen
            subs.update(ch for ch in new if not ch.isspace() and self.substituted(ch, bold, italic, mono, lang))
            seen.update(new)
        if not subs or subs.isdisjoint(text):
            return []
        out = []
        for ch in dict.fromkeys(text):
            if ch in subs:
                f = self.face_for(ch, bold, italic, mono, lang)
                if f is not None:
                    out.append((ch, f, self.primary(ch, bold, italic, lang)))
        return out

    def primary(self, ch: str, bold=False, italic=False, lang: str = "zh") -> Face | None:
        """The face the stack would draw ``ch`` in if it had it: its script's first family."""
        script = script_of(ch)
        if script == "common":
            script = "cjk" if lang == "zh" else "latin"
        chain = (self.cjk or self.latin) if script == "cjk" else (self.latin or self.cjk)
        return chain[0].pick(bold, italic) if chain else None

    def _find(self, ch, bold, italic, mono, lang) -> tuple[Face | None, bool]:
        if mono and self.mono is not None:
            f = self.mono.pick(bold, italic)
            if f.covers(ch):
                return f, False
        script = script_of(ch)
        if script == "common":
            script = "cjk" if lang == "zh" else "latin"
        chains = (self.cjk, self.latin) if script == "cjk" else (self.latin, self.cjk)
        for chain in chains:
            for fam in chain:
                f = fam.pick(bold, italic)
                if f.covers(ch):
                    return f, False
                if f is not fam.regular and fam.regular.covers(ch):
                    # the style's file lacks the glyph: embolden the regular rather than switch typeface
                    return (replace(fam.regular, synthetic_bold=bold) if bold else fam.regular), False
        prim = self.primary(ch, bold, italic, lang)
        klass = face_class(prim) if prim is not None else ""
        found = coverage_fallback(ch, klass, bold, self.allow_system)
        return found, found is not None


# --------------------------------------------------------------------------------------------- coverage search
# Style classes, told from family and file names.  Order matters: 仿宋 is a 宋, 黑体 is sans.
_CLASSES = (
    ("mono", re.compile(r"mono|code|courier|consol", re.I)),
    ("fangsong", re.compile(r"fang|仿宋|(^|[^a-z])fs(_?gb|[^a-z]|$)", re.I)),
    ("kai", re.compile(r"kai(?!thi)|楷", re.I)),
    ("sans", re.compile(r"sans|hei|黑|gothic|yahei|dengxian|等线|pingfang|苹方", re.I)),
    ("serif", re.compile(r"serif|song|宋|ming|sun|mincho|times|georgia|libertin|标宋", re.I)),
)
# how near another class is to a font's own (0 = the same): 仿宋 and 楷体 are closer to 宋体 than to 黑体
_NEAR = {"fangsong": ("fangsong", "serif", "kai", "sans"), "kai": ("kai", "serif", "fangsong", "sans"),
         "serif": ("serif", "fangsong", "kai", "sans"), "sans": ("sans", "serif", "kai", "fangsong"),
         "mono": ("mono", "sans", "serif")}
_HEAVY = re.compile(r"bold|black|heavy|semibold|demibold", re.I)
_SLANTED = re.compile(r"italic|oblique", re.I)
# how far a style's weight is from regular (heavy styles are told apart by _HEAVY)
_WEIGHTS = ((re.compile(r"regular|book|normal|roman|^$", re.I), 0), (re.compile(r"medium", re.I), 1),
            (re.compile(r"demilight|semilight", re.I), 2), (re.compile(r"light", re.I), 3),
            (re.compile(r"thin|hairline", re.I), 4))
_HEAVY_WEIGHTS = ((re.compile(r"black|heavy|extra ?bold|ultra ?bold", re.I), 2),
                  (re.compile(r"semi ?bold|demi ?bold", re.I), 1))         # else bold: 0
# a CJK collection's regional faces: Simplified Chinese first (the glyph shapes differ by region)
_REGION = ((re.compile(r"\b(SC|CN|GB|Hans)\b|simplified|简", re.I), 0),
           (re.compile(r"\b(TC|HK|TW|Hant)\b|traditional|繁", re.I), 1),
           (re.compile(r"\b(JP|KR|K|J)\b|japanese|korean", re.I), 2))
# drawn by nothing: variation selectors, joiners, tag characters (default-ignorable code points)
_IGNORABLE = frozenset("\u200b\u200c\u200d\u2060\ufeff" + "".join(map(chr, range(0xFE00, 0xFE10)))
                       + "".join(map(chr, range(0xE0020, 0xE0080))) + "".join(map(chr, range(0xE0100, 0xE01F0))))


def font_label(face: Face) -> str:
    """How a warning names a face's font: a bundled font by its file name, another by its full path."""
    src = face.source or face.path
    p = Path(src.split("#", 1)[0])
    name = p.name if p.parent == BUNDLED_DIR else src
    return name + (" (bundled)" if p.parent == BUNDLED_DIR else "")


def style_class(*names: str) -> str:
    """'fangsong', 'kai', 'serif', 'sans', 'mono' or '' (unknown) from a font's family and file names."""
    text = " ".join(n for n in names if n)
    for klass, pat in _CLASSES:
        if pat.search(text):
            return klass
    return ""


def face_class(face: Face) -> str:
    tt = face.reportlab_font.face                  # type: ignore[attr-defined]
    fam = tt.familyName.decode("utf-8", "replace") if isinstance(tt.familyName, bytes) else str(tt.familyName)
    # a converted CFF font's file is in the cache under the source's stem: both name the face
    return style_class(fam, Path(face.path).name)


@dataclass(eq=False)
class InstalledFont:
    """A font file (or collection member) the coverage search may use: bundled or installed."""

    path: str
    index: int
    family: str
    style: str
    bundled: bool
    ranges: list[tuple[int, int]] | None = None     # covered code points (inclusive); None: read the cmap

    @functools.cached_property
    def klass(self) -> str:
        return style_class(self.family, Path(self.path).name)

    @functools.cached_property
    def heavy(self) -> bool:
        return bool(_HEAVY.search(self.style))

    def covers(self, cp: int) -> bool:
        if self.ranges is None:
            self.ranges = _cmap_ranges(self.path, self.index)
        i = bisect.bisect_right(self.ranges, (cp, 0x110000)) - 1
        return i >= 0 and self.ranges[i][0] <= cp <= self.ranges[i][1]

    def __repr__(self):
        return f"InstalledFont({self.path!r}#{self.index}, {self.family!r} {self.style!r}, {self.klass or '?'})"


def _cmap_ranges(path: str, index: int) -> list[tuple[int, int]]:
    try:
        from fontTools.ttLib import TTFont as FTFont
        cps = sorted(FTFont(path, fontNumber=index, lazy=True).getBestCmap() or ())
    except Exception:            # a damaged or unusual file covers nothing
        return []
    out: list[tuple[int, int]] = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
_installed: list[InstalledFont] | None = None
_ranked: dict = {}                    # (class, heavy, with installed fonts) -> candidates, best first
_unusable: set = set()                # (path, index) ReportLab refused (colour bitmaps, CFF2 …)
USE_FONTCONFIG = True                 # list installed fonts with fc-list where it is there


def bundled_fonts() -> list[InstalledFont]:
    """docgen's own fonts, as fonts.json lists them."""
    try:
        files = json.loads((BUNDLED_DIR / "fonts.json").read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        files = {p.name: {"family": p.stem, "style": ""} for p in BUNDLED_DIR.glob("*.ttf")}
    return [InstalledFont(str(BUNDLED_DIR / name), 0, e.get("family", ""), e.get("style", ""), True)
            for name, e in sorted(files.items()) if (BUNDLED_DIR / name).is_file()]


def installed_fonts() -> list[InstalledFont]:
    """Every font installed on this machine, once per process: fontconfig's list (``fc-list``, with each
    font's character set) where it is there, else the files in the platform's font folders; and the
    files in ``DOCGEN_FONT_DIRS`` folders either way.  Ordered by path, so the choice is the same on
    every run."""
    global _installed
    got = _installed
    if got is None:
        with _lock:
            got = _installed
            if got is None:
                got = _installed = _list_installed()
    return got


def _list_installed() -> list[InstalledFont]:
    found: dict[tuple[str, int], InstalledFont] = {}
    extra = [Path(p).expanduser() for p in os.environ.get("DOCGEN_FONT_DIRS", "").split(os.pathsep) if p]
    fc = shutil.which("fc-list") if USE_FONTCONFIG else None
    if fc:
        for f in _fontconfig_list(fc):
            found.setdefault((f.path, f.index), f)
        dirs = extra
    else:
        dirs = system_font_dirs()
    for d in dirs:
        for f in _scan_folder(d):
            found.setdefault((f.path, f.index), f)
    return [found[k] for k in sorted(found)]


def _fontconfig_list(fc: str) -> list[InstalledFont]:
    fmt = "%{file}\\t%{index}\\t%{family[0]}\\t%{style[0]}\\t%{fontformat}\\t%{charset}\\n"
    import subprocess          # only to list the system's fonts

    try:
        out = subprocess.run([fc, "--format", fmt], capture_output=True, text=True, timeout=60,
                             errors="replace").stdout
    except (OSError, subprocess.SubprocessError):
        return []
    fonts = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 6 or not parts[0].lower().endswith(_FONT_SUFFIXES) or parts[4] not in ("TrueType", "CFF"):
            continue
        ranges = []
        for r in parts[5].split():
            lo, _, hi = r.partition("-")
            try:
                ranges.append((int(lo, 16), int(hi or lo, 16)))
            except ValueError:
                continue
        try:
            index = int(parts[1])
        except ValueError:
            continue
        fonts.append(InstalledFont(parts[0], index, parts[2], parts[3], False, sorted(ranges)))
    return fonts


def _scan_folder(folder: Path) -> list[InstalledFont]:
    """The font files under ``folder``, named from their ``name`` tables (cmaps are read when needed)."""
    if not folder.is_dir():
        return []
    from fontTools.ttLib import TTCollection, TTFont as FTFont
    out = []
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() not in _FONT_SUFFIXES or not p.is_file():
            continue
        try:
            faces = TTCollection(str(p), lazy=True).fonts if p.suffix.lower() in (".ttc", ".otc") \
                else [FTFont(str(p), lazy=True)]
        except Exception:
            continue
        for i, tt in enumerate(faces):
            try:
                name = tt["name"]
                fam = name.getDebugName(16) or name.getDebugName(1) or p.stem
                sty = name.getDebugName(17) or name.getDebugName(2) or ""
            except Exception:
                fam, sty = p.stem, ""
            out.append(InstalledFont(str(p), i, fam, sty, False))
    return out


def _candidates(klass: str, heavy: bool, system: bool) -> list[InstalledFont]:
    """The fonts the coverage search tries, best first: nearest style class, then the asked weight (bold or
    not), upright before italic, regular before medium and light, a collection's Simplified Chinese face
    before its other regions', bundled before installed, then by path."""
    key = (klass, heavy, system)
    got = _ranked.get(key)
    if got is None:
        near = _NEAR.get(klass, ())
        pool = bundled_fonts() + (installed_fonts() if system else [])

        def rank(f: InstalledFont):
            d = near.index(f.klass) if f.klass in near else len(near)
            slanted = bool(_SLANTED.search(f.style))       # upright first: CJK has no italics
            weights = _HEAVY_WEIGHTS if f.heavy else _WEIGHTS
            weight = next((w for pat, w in weights if pat.search(f.style)), 0 if f.heavy else 1)
            region = next((r for pat, r in _REGION if pat.search(f.family)), 0)
            return (d, f.heavy != heavy, slanted, weight, region, not f.bundled, f.path, f.index)

        got = _ranked[key] = sorted(pool, key=rank)
    return got


def coverage_fallback(ch: str, klass: str = "", bold: bool = False, system: bool = True) -> Face | None:
    """A face for ``ch`` found by coverage: the first of the bundled fonts and (``system``) the installed
    ones that has the character, fonts of style class ``klass`` first (see :func:`_candidates`); a regular
    weight asked to be bold is emboldened.  None when no font has it."""
    cp = ord(ch)
    for f in _candidates(klass, bold, system):
        if (f.path, f.index) in _unusable or not f.covers(cp):
            continue
        try:
            face = load_face(f.path, index=f.index, page=cp >> 8)
        except FontError:
            _unusable.add((f.path, f.index))       # e.g. a colour emoji font: no outlines ReportLab can embed
            continue
        if not face.covers(ch):                     # fontconfig and the font's own cmap disagree
            continue
        return replace(face, synthetic_bold=True) if bold and not f.heavy else face
    return None


# ------------------------------------------------------------------------------------------------ roles
def role_families(role: str, entries, base_dir: Path | None) -> tuple[list[Family], list[str]]:
    """The families of a theme's typeface role (``fonts.roles.<role>``, a fallback chain of file names or
    family specs, already confined by the layout stage) that are installed here, in order; entries this
    machine lacks (a Windows path read elsewhere, a system font not installed) are skipped, so one spec
    serves several systems.  A warning when none is installed: the set's stand-in draws the role."""
    fams: list[Family] = []
    absent: list[str] = []
    for e in entries:
        spec = {"regular": e} if isinstance(e, str) else dict(e)
        if not _installed_here(spec["regular"], base_dir):
            absent.append(spec["regular"])
            continue
        fams.append(family(spec["regular"], spec.get("bold"), spec.get("italic"), spec.get("bold_italic"),
                           base_dir=base_dir))
    notes = []
    if absent and not fams:
        notes.append(f"theme.fonts.roles.{role}: none of its fonts is installed on this machine "
                     f"({', '.join(absent)}); the theme's stand-in draws it")
    return fams, notes


def _installed_here(name: str, base_dir: Path | None) -> bool:
    if is_windows_path(name) and os.name != "nt":
        return False                       # never read as a relative file name on another system
    p = Path(os.path.expandvars(name) if os.name == "nt" else name).expanduser()
    if p.is_absolute():
        return p.is_file()
    return any(c.is_file() for c in ([Path(base_dir) / p] if base_dir else []) + [BUNDLED_DIR / p])


# ------------------------------------------------------------------------------------------------ clusters
_RI = (0x1F1E6, 0x1F1FF)                 # regional indicators: two make a flag
_EXTEND = re.compile("[\u200d\ufe0e\ufe0f\u20e3\U0001F3FB-\U0001F3FF\U000E0020-\U000E007F]")


def _is_extend(ch: str) -> bool:
    o = ord(ch)
    return (o in (0x200D, 0xFE0E, 0xFE0F, 0x20E3) or 0x1F3FB <= o <= 0x1F3FF or 0xE0020 <= o <= 0xE007F
            or 0xFE00 <= o <= 0xFE0D)


def clusters(text: str) -> list[str]:
    """``text`` cut into the clusters a reader sees as one character, where emoji make them: a base with
    its variation selector (VS15/VS16), skin-tone modifier, keycap or tag characters; a ZWJ sequence
    (👩‍💻); a flag (two regional indicators).  Everything else is one character a cluster."""
    if _EXTEND.search(text) is None and not any(_RI[0] <= ord(c) <= _RI[1] for c in text):
        return list(text)
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        if _RI[0] <= ord(text[i]) <= _RI[1]:
            if j < n and _RI[0] <= ord(text[j]) <= _RI[1]:
                j += 1
        else:
            while j < n:
                if _is_extend(text[j]):
                    j += 1
                elif text[j - 1] == "\u200d" and not text[j].isspace():
                    j += 1                       # the next pictograph of a ZWJ sequence
                else:
                    break
        out.append(text[i:j])
        i = j
    return out


def cluster_face(stack: FontStack, cluster: str, bold=False, italic=False, mono=False, lang="zh") -> Face | None:
    """The one face that draws a whole cluster: of the faces the stack picks for the cluster's characters
    (the base's first), the first that has all of them, else the first that has every visible one
    (selectors and joiners draw nothing), else the base's."""
    base = stack.face_for(cluster[0], bold, italic, mono, lang)
    if len(cluster) == 1:
        return base
    faces = [base] + [stack.face_for(c, bold, italic, mono, lang) for c in cluster[1:]]
    visible = [c for c in cluster if c not in _IGNORABLE and c != "\u20e3"]
    for need in (cluster, visible):
        for f in faces:
            if f is not None and all(f.covers(c) for c in need):
                return f
    return base


def is_cluster_inner(chars) -> list[int]:
    """The boundaries inside emoji clusters of a sequence of glyph strings (``chars[i]`` starts after
    boundary i): before a selector, modifier, keycap or tag, after a ZWJ, and between the two regional
    indicators of a flag."""
    out = []
    ri = 0                               # regional indicators in a row so far
    for i, c in enumerate(chars):
        first = c[0]
        o = ord(first)
        if _RI[0] <= o <= _RI[1] and len(c) == 1:
            ri += 1
            if ri % 2 == 0:
                out.append(i)
            continue
        ri = 0
        if i and (_is_extend(first) or chars[i - 1][-1] == "\u200d"):
            out.append(i)
    return out


# ------------------------------------------------------------------------------------------------ doctor
# which installed fonts can play a 公文 typeface role, told from their names (as check/fontroles.py reads
# a PDF's): 小标宋 by name only, the others by style class
_XBS = re.compile(r"xiaobiaosong|biaosong|小标宋|标宋|(^|[^a-z])xbs", re.I)
_ROLE_CLASS = {"fangsong": "fangsong", "kaiti": "kai", "heiti": "sans"}


def tgh_chars() -> frozenset[str]:
    """The 8,105 characters of the 通用规范汉字表 (2013), as docgen/fonts/tgh2013.txt lists them."""
    return _tgh()


@functools.lru_cache(maxsize=1)
def _tgh() -> frozenset[str]:
    chars: set[str] = set()
    for line in (BUNDLED_DIR / "tgh2013.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            chars.update(line.split("\t", 1)[1])
    return frozenset(chars)


def fonts_for_role(role: str, system: bool = True) -> list[InstalledFont]:
    """The installed (``system``) and bundled fonts whose names say they can play ``role`` (fangsong,
    xiaobiaosong, heiti, kaiti), installed ones first."""
    pool = (installed_fonts() if system else []) + bundled_fonts()
    if role == "xiaobiaosong":
        return [f for f in pool if _XBS.search(f"{f.family} {Path(f.path).name}")]
    klass = _ROLE_CLASS.get(role)
    return [f for f in pool if klass and f.klass == klass]


def coverage_of(font: InstalledFont, chars) -> int:
    """How many of ``chars`` the font has."""
    return sum(1 for c in chars if font.covers(ord(c)))
