"""What a paragraph is made of: styled runs in, glyph records and the value types of set lines out.

The value types every stage of typesetting shares — :class:`TextStyle`, :class:`Run` (text in a style),
:class:`ParaFormat` (how a paragraph is set), :class:`Piece` and :class:`Line` (what the breaker hands the
PDF writer) — and what each character is to the CLREQ rules: its class (:data:`NO_START`, :data:`NO_END`,
:data:`HANGABLE`, :data:`NO_STRETCH_PAIRS`), its glyph kind (:func:`kind_of`), and its glyph record in a
style (:func:`describe`, cached per style by :func:`char_info`: face, kind, size, advance, squeezable
amounts).  English dictionary hyphenation points (:func:`hyphen_points`) live here too: both breaking
paths (typeset/breaker.py, typeset/latin.py) read them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from docgen.typeset.fonts import Face, FontStack, script_of

# --- CLREQ prohibition sets (superset of the strict level: GB solidus rule, —— and …… not at line start) ---
_PAUSE_STOP = "、，；：。！？．" + ",.;:!?"
_CLOSING = "”’」』）〕］】｝〗〙〛》〉〞" + ")]}"
_CONNECTORS = "～〜‐‑–-゠"
_INTERPUNCT = "·・•‧"
_SMALL_KANA = "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿーヽヾゝゞ々〻"
NO_START = frozenset(_PAUSE_STOP + _CLOSING + _CONNECTORS + _INTERPUNCT + _SMALL_KANA
                     + "％‰‱℃℉%" + "—…⸺⋯")
NO_END = frozenset("“‘「『（〔［【｛〖〘〚《〈〝" + "([{" + "／/" + "¿¡")
HANGABLE = frozenset("、，。．,.")               # marks that may hang past the measure (hang_punct)
NO_STRETCH_PAIRS = frozenset("—…⋯⸺")           # ——/…… are one mark drawn with two characters

# glyph kinds: C = Han/kana/full-width letter, P = CJK punctuation, L = Latin (non-space), S = word space
CJK, PUNCT, LATIN, SPACE = 0, 1, 2, 3
# break kinds at a boundary: none, normal, hyphenation point, emergency (URL/compound), last resort
NO_BREAK, BREAK, HYPHEN_POINT, EMERGENCY, ANYWHERE = 0, 1, 2, 3, 4
EPS = 1e-6


@dataclass(frozen=True)
class TextStyle:
    fonts: FontStack
    size: float                      # pt
    color: tuple[float, float, float] = (0, 0, 0)
    bold: bool = False
    italic: bool = False
    mono: bool = False               # inline code (kept whole, never broken)
    href: str | None = None          # link target
    underline: bool = False

    def __hash__(self):
        # styles key the breaker's tables and the break memo: hash the fields once per object
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.fonts, self.size, self.color, self.bold, self.italic, self.mono, self.href, self.underline))
            object.__setattr__(self, "_hash", h)
        return h

    def __getstate__(self):            # string hashes differ between processes: never carry one over
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}


@dataclass(frozen=True)
class Run:
    text: str
    style: TextStyle


@dataclass(frozen=True)
class ParaFormat:
    align: Literal["justify", "left", "center", "right"] = "justify"
    lang: Literal["zh", "en"] = "zh"
    first_indent: float = 0.0        # pt (Chinese paragraphs typically 2 em)
    hang_punct: bool = False         # 、，。． may hang past the measure; off = nothing inks past it
    grid_pitch: float | None = None  # character grid: every CJK char advances exactly this (pt)
    hyphenate: bool = True           # pyphen en_US hyphenation, lang='en' paragraphs only
    tracking: float = 0.0            # pt added between all characters
    compress_end: bool = True        # a full-width mark ending a justified line loses its blank half
    balance: bool = False            # display text: balanced lines at word boundaries (typeset/titles.py)

    def __hash__(self):
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.align, self.lang, self.first_indent, self.hang_punct, self.grid_pitch, self.hyphenate,
                      self.tracking, self.compress_end, self.balance))
            object.__setattr__(self, "_hash", h)
        return h

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}


@dataclass(slots=True)
class Piece:
    """One drawable: one face, size and colour, drawn with Tc = char_space and Tw = word_space."""

    x: float                          # offset from the line's left edge (pt)
    text: str
    face: Face
    size: float
    char_space: float = 0.0           # extra advance after each character (PDF Tc)
    color: tuple[float, float, float] = (0, 0, 0)
    href: str | None = None
    underline: bool = False
    width: float = 0.0                # from x to the end of the last glyph's advance (spacing inside included)
    rise: float = 0.0
    word_space: float = 0.0           # extra advance after each U+0020 (PDF Tw), for justified Latin text
    spaces: tuple[int, ...] = ()      # offsets in text before which the text had a space that vanished
                                      # (at a CJK–Latin boundary, between Han characters, around ·)


@dataclass(slots=True)
class Line:
    pieces: list[Piece]
    width: float                      # width actually used (pt), from the left edge to the last advance
    ascent: float                     # max over pieces, pt
    descent: float                    # pt, positive
    last: bool                        # last line of the paragraph (not justified)
    hyphen: Piece | None = None       # a hyphen drawn as a vector path (not text) after a hyphenated word



_OVERHANG: dict = {}                                # (face, character) -> overhang (em)


def overhang(face: Face, ch: str) -> float:
    """How far (em) the ink of ``ch`` reaches past its advance on the right — the hook of a serif f — which a
    justified line ending in it leaves inside the measure, so that no ink passes the edge."""
    o = _OVERHANG.get((face, ch))
    if o is None:
        b = face.ink(ch)
        o = _OVERHANG[(face, ch)] = max(0.0, b[2] - face.advance(ch)) if b is not None else 0.0
    return o


# ------------------------------------------------------------------------------------------------ characters

def kind_of(ch: str, lang: str) -> int:
    s = script_of(ch)
    if s == "latin":
        return LATIN
    if s == "common":
        if ch.isspace() and ch not in "\u00a0\u3000":
            return SPACE
        return PUNCT if lang == "zh" else LATIN
    o = ord(ch)
    if (0x3000 <= o <= 0x303F and ch not in "々〆〇〻\u3000") or 0xFE10 <= o <= 0xFE4F or ch in _FW_PUNCT:
        return PUNCT
    return CJK


_FW_PUNCT = frozenset("！＂＃＄％＆＇（）＊＋，－．／：；＜＝＞？＠［＼］＾＿｀｛｜｝～｟｠｡｢｣､･")


@lru_cache(maxsize=1)
def _pyphen():
    # pyphen's en_US patterns, parsed once per machine (typeset/hyphencache.py), not in every process
    from docgen.typeset.hyphencache import hyphenator
    return hyphenator("en_US", left=3, right=3)


@lru_cache(maxsize=4096)
def hyphen_points(word: str) -> tuple[int, ...]:
    """Offsets inside ``word`` where the en_US dictionary allows a hyphen (3+3 letters minimum)."""
    return tuple(_pyphen().positions(word))


def hyphenatable(core: str) -> bool:
    # acronyms (GPU, PyTorch-style camel case) and anything that is not a plain word are left alone
    return (len(core) >= 6 and core.isascii() and core.isalpha()
            and sum(1 for c in core[1:] if c.isupper()) == 0)




def compound_parts(core: str, start: int):
    pos = 0
    for part in core.split("-"):
        yield start + pos, part
        pos += len(part) + 1


# per (style, lang): char -> the glyph record the breakers use (or "\n" / " " for breaks and spaces);
# a record is (ch, style, face, kind, size, advance, squeezable left, squeezable right, mono, inner boundaries)
_CHAR_INFO: dict = {}


def char_info(st: TextStyle, lang: str) -> tuple[TextStyle, dict]:
    """The record table of (style, lang), and the one style object its records carry: equal styles built
    separately share records, and the setter can tell styles apart by identity."""
    key = (st, lang)
    got = _CHAR_INFO.get(key)
    if got is None:
        if len(_CHAR_INFO) > 512:
            _CHAR_INFO.clear()
        got = _CHAR_INFO[key] = (st, {})
    return got


NOTDEF: set[str] = set()            # characters some style drew as .notdef (no font of its stack covers them)


def describe(st: TextStyle, ch: str, lang: str):
    """The glyph record of ``ch`` set in ``st`` (see above), or "\\n" for a forced break and " " for a
    collapsible space."""
    if ch == "\n" or ch == "\u2028":
        return "\n"
    if ch.isspace() and ch not in "\u00a0\u3000" and not (st.mono and ch == " "):
        return " "
    face = st.fonts.face_for(ch, st.bold, st.italic, st.mono, lang)
    if face is None:                    # nobody covers it: draw .notdef in the primary face; caller warns
        face = (st.fonts.cjk or st.fonts.latin)[0].pick(st.bold, st.italic)
        NOTDEF.add(ch)
    k = kind_of(ch, lang)
    sl = sr = 0.0
    if k == PUNCT:
        sl, sr = face.squeeze(ch)       # em: to pt at the font size (_build rescales to a grid cell)
        sl *= st.size
        sr *= st.size
    return (ch, st, face, k, st.size, face.advance(ch) * st.size, sl, sr, st.mono, 0)
