"""CLREQ line breaking and justification: styled runs in, positioned glyph pieces per line out.

Input is a paragraph as a sequence of :class:`Run` (text + :class:`TextStyle`), a measure and a
:class:`ParaFormat`; output is a list of :class:`Line`, each a few :class:`Piece` objects (one face, size,
colour and spacing each) placed from the line's left edge, ready for :func:`draw_lines`.  The rules are
those of the W3C "Requirements for Chinese Text Layout" (CLREQ): line-start/line-end prohibitions resolved
by pushing punctuation in (compressing full-width marks toward half width) or pulling a character out,
never by overflowing the measure; ——/…… never split; Latin words, numbers and URLs kept whole; ¼ em
between Han and Latin; justification by inter-character spacing in Chinese and word spacing in
English; optional character grid and hanging punctuation; dictionary hyphenation for English paragraphs.
"""
from __future__ import annotations

import math
import re
from bisect import bisect_right
from itertools import accumulate
from operator import add
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Sequence

from reportlab.lib.rl_accel import escapePDF

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
_NO_STRETCH_PAIRS = frozenset("—…⋯⸺")           # ——/…… are one mark drawn with two characters

# glyph kinds: C = Han/kana/full-width letter, P = CJK punctuation, L = Latin (non-space), S = word space
_C, _P, _L, _S = 0, 1, 2, 3
# break kinds at a boundary: none, normal, hyphenation point, emergency (URL/compound), last resort
_NO, _OK, _HYPH, _EMERG, _ANY = 0, 1, 2, 3, 4
_EPS = 1e-6


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

    def __hash__(self):
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.align, self.lang, self.first_indent, self.hang_punct, self.grid_pitch, self.hyphenate,
                      self.tracking))
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


@dataclass(slots=True)
class Line:
    pieces: list[Piece]
    width: float                      # width actually used (pt), from the left edge to the last advance
    ascent: float                     # max over pieces, pt
    descent: float                    # pt, positive
    last: bool                        # last line of the paragraph (not justified)
    hyphen: Piece | None = None       # a hyphen drawn as a vector path (not text) after a hyphenated word


# ------------------------------------------------------------------------------------------------ helpers

def _kind(ch: str, lang: str) -> int:
    s = script_of(ch)
    if s == "latin":
        return _L
    if s == "common":
        if ch.isspace() and ch not in "\u00a0\u3000":
            return _S
        return _P if lang == "zh" else _L
    o = ord(ch)
    if (0x3000 <= o <= 0x303F and ch not in "々〆〇〻\u3000") or 0xFE10 <= o <= 0xFE4F or ch in _FW_PUNCT:
        return _P
    return _C


_FW_PUNCT = frozenset("！＂＃＄％＆＇（）＊＋，－．／：；＜＝＞？＠［＼］＾＿｀｛｜｝～｟｠｡｢｣､･")


@lru_cache(maxsize=1)
def _pyphen():
    import pyphen
    return pyphen.Pyphen(lang="en_US", left=3, right=3)


@lru_cache(maxsize=4096)
def _hyphen_points(word: str) -> tuple[int, ...]:
    """Offsets inside ``word`` where the en_US dictionary allows a hyphen (3+3 letters minimum)."""
    return tuple(_pyphen().positions(word))


def _hyphenatable(core: str) -> bool:
    # acronyms (GPU, PyTorch-style camel case) and anything that is not a plain word are left alone
    return (len(core) >= 6 and core.isascii() and core.isalpha()
            and sum(1 for c in core[1:] if c.isupper()) == 0)


# ------------------------------------------------------------------------------------------------ breaking

class _Para:
    """One forced-break segment of a paragraph as parallel per-glyph arrays (pt unless noted)."""

    __slots__ = ("ch", "face", "size", "style", "kind", "fadv", "nat", "trimL", "trimR", "sqL", "sqR",
                 "gap", "brk", "cum", "scum", "n", "mono", "stre", "grid", "hyph", "words", "nst", "trimmed")

    def __init__(self):
        for a in ("ch", "face", "size", "style", "kind", "fadv", "sqL", "sqR", "mono", "nst"):
            setattr(self, a, [])
        self.n = 0
        self.words = False


# per (style, lang): char -> the glyph record _segments appends (or "\n" / " " for breaks and spaces)
_CHAR_INFO: dict = {}
_FIELDS = ("ch", "style", "face", "kind", "size", "fadv", "sqL", "sqR", "mono", "nst")


def _char_info(st: TextStyle, lang: str) -> tuple[TextStyle, dict]:
    """The record table of (style, lang), and the one style object its records carry: equal styles built
    separately share records, and the setter can tell styles apart by identity."""
    key = (st, lang)
    got = _CHAR_INFO.get(key)
    if got is None:
        if len(_CHAR_INFO) > 512:
            _CHAR_INFO.clear()
        got = _CHAR_INFO[key] = (st, {})
    return got


def _describe(st: TextStyle, ch: str, lang: str):
    if ch == "\n" or ch == "\u2028":
        return "\n"
    if ch.isspace() and ch not in "\u00a0\u3000" and not (st.mono and ch == " "):
        return " "
    face = st.fonts.face_for(ch, st.bold, st.italic, st.mono, lang)
    if face is None:                    # nobody covers it: draw .notdef in the primary face; caller warns
        face = (st.fonts.cjk or st.fonts.latin)[0].pick(st.bold, st.italic)
    k = _kind(ch, lang)
    sl = sr = 0.0
    if k == _P:
        sl, sr = face.squeeze(ch)       # em: to pt at the font size (_build rescales to a grid cell)
        sl *= st.size
        sr *= st.size
    return (ch, st, face, k, st.size, face.advance(ch) * st.size, sl, sr, st.mono, 0)


WORD_RECORDS = True                             # off: every glyph its own record (the reference behaviour)
_RECORDS_MIN_EM = 18                            # narrower measures (in em of the largest size) use characters
_WORD = re.compile(r"([A-Za-z0-9]{2,}|[\u3400-\u4dbf\u4e00-\u9fff]{2,})")
_SPACE = re.compile(r"\s")
_WORD_CACHE_MAX = 60000                         # words remembered per (style, lang) before starting over


def _word_info(st: TextStyle, lang: str, info: dict, w: str):
    """One glyph record for a whole ASCII word, or a run of Han characters, when one face draws all of
    it (the usual case), else the records of its characters.  Widths are summed character by character,
    as _explode recomputes them.  A Han run's record counts its inner boundaries (``nst``): each may take
    a line break and justification space, as between any two Han characters."""
    recs = []
    for ch in w:
        t = info.get(ch)
        if t is None:
            t = info[ch] = _describe(st, ch, lang)
        recs.append(t)
    face = recs[0][2]
    kind = _L if w[0] < "\x80" else _C
    if (kind == _L or not st.mono) and all(r[2] is face and r[3] == kind for r in recs):
        adv = 0.0
        for r in recs:
            adv += r[5]
        return (w, st, face, kind, st.size, adv, 0.0, 0.0, st.mono, 0 if kind == _L else len(w) - 1)
    return recs


def _word_space(prev: tuple, st: TextStyle) -> tuple:
    """The record of a collapsed space kept between two Latin glyphs: set in the previous glyph's face and
    size, squeezable by a fifth of its width."""
    w = prev[2].advance(" ") * prev[4]
    return (" ", st, prev[2], _S, prev[4], w, 0.0, w / 5, False, 0)


def _keep_space(cur: list, pending: TextStyle, nxt: tuple) -> None:
    """A collapsed space (in style ``pending``) before the record ``nxt``: kept as a word space only between
    two Latin glyphs (between CJK characters and at CJK–Latin boundaries it vanishes).  Returns None, the
    caller's new ``pending``."""
    if cur[-1][3] == _L and nxt[3] == _L:
        cur.append(_word_space(cur[-1], pending))
    return None


def _segments(runs: Sequence[Run], lang: str, words: bool = True) -> list[_Para]:
    """Flatten runs into forced-break segments with whitespace collapsed: spaces vanish between CJK
    characters and at CJK–Latin boundaries (where the ¼ em gap replaces them).

    With ``words``, each ASCII letter/digit run of two or more characters is one record (a "word"), and so
    is each run of two or more Han characters: the breaker works on these and splits one into characters
    (:func:`_explode`) only where it needs a boundary inside it (a line end, a push-in, a pull-out), so text
    costs per word or run rather than per character."""
    segs = []
    cur: list = []
    add = cur.append
    pending = None                              # style of a collapsed space waiting for its right neighbour
    for run in runs:
        st, info = _char_info(run.style, lang)
        if words:
            if len(info) > _WORD_CACHE_MAX:
                info.clear()
            parts = _WORD.split(run.text)
        else:
            parts = (run.text,)
        for pi, part in enumerate(parts):
            if pi & 1:                          # a word (odd items of the split)
                t = info.get(part)
                if t is None:
                    t = info[part] = _word_info(st, lang, info, part)
                if t.__class__ is tuple:
                    if pending is not None:
                        pending = _keep_space(cur, pending, t)
                    add(t)
                    continue
                seq = part                      # mixed faces: character by character
            else:
                if part == " " and not st.mono:   # the usual word space: collapsed like any other
                    if cur:
                        pending = st
                    continue
                if not part:
                    continue
                if _SPACE.search(part) is None:
                    # no space or newline (a run of Chinese): one record per character, looked up in bulk
                    recs = list(map(info.get, part))
                    if None in recs:
                        recs = [r if r is not None else info.setdefault(c, _describe(st, c, lang))
                                for r, c in zip(recs, part)]
                    if pending is not None:
                        pending = _keep_space(cur, pending, recs[0])
                    cur.extend(recs)
                    continue
                seq = part
            for ch in seq:
                t = info.get(ch)
                if t is None:
                    t = info[ch] = _describe(st, ch, lang)
                if t.__class__ is str:
                    if t == "\n":
                        segs.append(cur)
                        cur = []
                        add = cur.append
                        pending = None
                    elif cur:
                        pending = st
                    continue
                if pending is not None:
                    pending = _keep_space(cur, pending, t)
                add(t)
    segs.append(cur)
    out = []
    for seg in segs:
        p = _Para()
        p.n = len(seg)
        p.words = words
        if seg:
            (p.ch, p.style, p.face, p.kind, p.size, p.fadv, p.sqL, p.sqR, p.mono,
             p.nst) = map(list, zip(*seg))                          # the record fields, as _FIELDS
        out.append(p)
    return out


def _explode(p: _Para, k: int) -> int:
    """Split the word or Han-run record at ``k`` into one record per character, in place (every per-glyph
    array, running sums and hyphenation marks); returns how many records were added."""
    w = p.ch[k]
    m = len(w)
    if m < 2:
        return 0
    f, sz = p.face[k], p.size[k]
    adv = [f.advance(c) * sz for c in w]
    d = m - 1
    j = k + 1
    p.ch[k:j] = list(w)
    p.face[k:j] = [f] * m
    p.size[k:j] = [sz] * m
    p.style[k:j] = [p.style[k]] * m
    p.kind[k:j] = [p.kind[k]] * m
    p.mono[k:j] = [p.mono[k]] * m
    p.fadv[k:j] = adv
    p.nat[k:j] = list(adv)
    for a in (p.sqL, p.sqR, p.trimL, p.trimR):
        a[j:j] = [0.0] * d
    p.gap[j:j] = [0.0] * d                      # words are only formed without tracking
    han = p.kind[k] == _C
    # inside a Han run: break and stretch anywhere; inside a word: last resort (and hyphenation, lazily)
    p.brk[j:j] = [_OK if han else _ANY] * d
    p.stre[j:j] = [han] * d
    p.nst[k:j] = [0] * m
    c = p.cum[k] + p.gap[k]
    inner = []
    for a in adv[:-1]:
        c += a
        inner.append(c)
    p.cum[j:j] = inner
    p.scum[j:j] = [p.scum[k]] * d
    p.n += d
    if p.hyph:
        p.hyph = {h + d if h > k else h for h in p.hyph}
    return d


def _split(p: _Para, k: int, q: int) -> None:
    """Split the Han-run record at ``k`` after its first ``q`` characters (0 < q < its length) into two runs,
    in place — what :func:`_explode` then regrouping would give, with one record added instead of one per
    character: a line that ends inside a run keeps a run at its end and the next line starts with one."""
    w = p.ch[k]
    f, sz = p.face[k], p.size[k]
    head = tail = 0.0
    for c in w[:q]:
        head += f.advance(c) * sz
    for c in w[q:]:
        tail += f.advance(c) * sz
    j = k + 1
    p.ch[k:j] = [w[:q], w[q:]]
    for a in (p.face, p.size, p.style, p.kind, p.mono):
        a.insert(j, a[k])
    p.fadv[k:j] = [head, tail]
    p.nat[k:j] = [head, tail]
    p.nst[k:j] = [q - 1, len(w) - q - 1]
    for a in (p.sqL, p.sqR, p.trimL, p.trimR, p.gap):
        a.insert(j, 0.0)
    p.brk.insert(j, _OK)                            # between two Han characters
    p.stre.insert(j, True)
    p.cum.insert(j, p.cum[k] + p.gap[k] + head)
    p.scum.insert(j, p.scum[k])
    p.n += 1
    if p.hyph:
        p.hyph = {h + 1 if h > k else h for h in p.hyph}


def _explode_range(p: _Para, a: int, b: int) -> int:
    """Explode every word and Han-run record in [a, b); returns the new b."""
    i = a
    while i < b:
        if len(p.ch[i]) > 1:
            d = _explode(p, i)
            b += d
            i += d
        i += 1
    return b


def _build(p: _Para, fmt: ParaFormat) -> _Para:
    """Widths, squeezable amounts, gaps and break opportunities of one segment (filled in place)."""
    n = p.n
    grid = p.grid = fmt.grid_pitch
    lang = fmt.lang
    hyph = fmt.hyphenate and lang == "en" and grid is None
    ch, kind, mono, size, fadv = p.ch, p.kind, p.mono, p.size, p.fadv
    nat = p.nat = list(fadv)
    sqL, sqR = p.sqL, p.sqR
    if grid:
        # squeeze amounts are in pt at the font size: on a grid a mark is squeezed within its cell
        for i in range(n):
            if kind[i] == _P and (sqL[i] or sqR[i]):
                sqL[i] *= grid / size[i]
                sqR[i] *= grid / size[i]
    trimL, trimR = [0.0] * n, [0.0] * n
    gap = [fmt.tracking] * n
    if n:
        gap[0] = 0.0
    if grid:
        for i in range(n):
            if kind[i] in (_C, _P):
                nat[i] = grid
        _grid_pad_latin(p, grid, nat)
    # boundaries: the gap before glyph i, whether a line may break there, whether justification may
    # stretch it (after a word space, between CJK glyphs, at CJK–Latin boundaries; not inside a Latin word
    # nor inside ——/……).  Between two Han characters — most of a Chinese paragraph — the answer is always
    # "break allowed, stretchable, no extra gap" unless the second may not start a line or the text is
    # inline code: those boundaries take the defaults and only the others are examined one by one.
    brk = [_OK] * (n + 1)
    stre = [True] * n
    if n:
        brk[0] = _NO
        stre[0] = False
    trimmed = []
    for i in [i for i, (ka, kb, b, m) in enumerate(zip(kind, kind[1:], ch[1:], mono), 1)
              if ka != _C or kb != _C or b in NO_START or m]:
        a, b = ch[i - 1], ch[i]
        ka, kb = kind[i - 1], kind[i]
        stre[i] = ka == _S or not (kb == _S or (ka == _L and kb == _L) or (a == b and b in _NO_STRETCH_PAIRS))
        if ka != _S and kb != _S and (ka == _C and kb == _L or ka == _L and kb == _C) and not grid:
            gap[i] += 0.25 * (size[i - 1] if ka == _C else size[i])
        if kb == _S:
            brk[i] = _NO
            continue
        if ka == _S:
            if b in NO_START or (i >= 2 and ch[i - 2] in NO_END):
                brk[i] = _NO
            continue
        if ka == _L and kb == _L or (mono[i - 1] and mono[i]):
            brk[i] = _ANY if (a not in NO_END and b not in NO_START) else _NO
            if mono[i - 1] and mono[i]:
                continue
            if b == "/" and a != "/":
                brk[i] = _EMERG          # long URLs: break before a slash (a solidus must not end a line)
            elif a == "-" and b.isalnum() and i >= 2 and ch[i - 2].isalnum() and lang == "en":
                brk[i] = _OK             # after the hyphen of a compound (Chinese keeps Qwen-Image whole)
            continue
        if ka == _P and kb == _P and not grid:
            # consecutive punctuation: squeeze the pair to 1.5 em (CLREQ 3.1.6.1)
            if sqR[i - 1] > 0:
                trimR[i - 1], sqR[i - 1] = sqR[i - 1], 0.0
                trimmed.append(i - 1)
            elif sqL[i] > 0:
                trimL[i], sqL[i] = sqL[i], 0.0
                trimmed.append(i)
        if b in NO_START or a in NO_END:
            brk[i] = _NO
    # dictionary hyphenation is looked up lazily, only for a word a line end falls in (_choose_break)
    p.hyph = set() if hyph else None
    for i in trimmed:
        nat[i] = fadv[i] - trimL[i] - trimR[i]
    p.trimmed = bool(trimmed)
    p.trimL, p.trimR, p.gap, p.brk = trimL, trimR, gap, brk
    p.stre = stre
    p.cum = list(accumulate(map(add, gap, nat), initial=0.0))
    p.scum = list(accumulate(map(add, sqL, sqR), initial=0.0))
    return p


def _grid_pad_latin(p: _Para, pitch: float, nat: list):
    """On a character grid a Latin word (with its following space) occupies whole half cells, so the
    CJK text after it stays on the grid; the padding goes at its end."""
    half = pitch / 2
    kind, n = p.kind, p.n
    for i, j in _latin_words(p):
        if j < n and kind[j] == _S:
            j += 1
        w = sum(nat[i:j])
        pad = math.ceil(w / half - 1e-6) * half - w
        nat[j - 1] += pad


def _latin_words(p: _Para):
    """(start, end) of each run of Latin glyphs."""
    kind, n = p.kind, p.n
    i = 0
    while i < n:
        if kind[i] != _L:
            i += 1
            continue
        j = i
        while j < n and kind[j] == _L:
            j += 1
        yield i, j
        i = j


def _hyphenate_at(p: _Para, k: int) -> None:
    """Mark the dictionary hyphenation points of the Latin word that a break at ``k`` would fall inside."""
    kind = p.kind
    if p.hyph is None or k <= 0 or k >= p.n or kind[k] != _L or kind[k - 1] != _L:
        return
    i = k
    while i > 0 and kind[i - 1] == _L:
        i -= 1
    if i in p.hyph:
        return
    p.hyph.add(i)
    j = k
    while j < p.n and kind[j] == _L:
        j += 1
    _mark_word(p, p.brk, i, j)


def _mark_word(p: _Para, brk: list, i: int, j: int) -> None:
    ch = p.ch
    a, b = i, j                              # the word's core, without surrounding punctuation
    while a < b and not ch[a].isalpha():
        a += 1
    while b > a and not ch[b - 1].isalpha():
        b -= 1
    core = "".join(ch[a:b])
    for part_start, part in _compound_parts(core, a):
        if _hyphenatable(part) and not any(p.mono[part_start:part_start + len(part)]):
            for off in _hyphen_points(part):
                if brk[part_start + off] == _ANY:
                    brk[part_start + off] = _HYPH


def _compound_parts(core: str, start: int):
    pos = 0
    for part in core.split("-"):
        yield start + pos, part
        pos += len(part) + 1


def _line_width(p: _Para, s: int, b: int) -> tuple[float, int]:
    """Natural width of glyphs [s, b) without a trailing space, and the index after the last kept glyph."""
    e = b
    if e > s and p.kind[e - 1] == _S:
        e -= 1
    w = p.cum[e] - p.cum[s] - p.gap[s]
    if p.brk[b] == _HYPH and b < p.n:
        w += _hyphen_width(p, e)
    return w, e


def _hyphen_width(p: _Para, e: int) -> float:
    return p.face[e - 1].advance("-") * p.size[e - 1]


def _choose_break(p: _Para, s: int, W: float, hang: bool) -> tuple[int, bool]:
    """Where the line starting at glyph s ends: returns (break index, hangs)."""
    n, cum, gap, brk, ch = p.n, p.cum, p.gap, p.brk, p.ch
    base = cum[s] + gap[s]
    k = s + 1
    while k <= n and cum[k] - base <= W + _EPS:
        k += 1
    fit = k - 1                                     # glyphs [s, fit) fit at natural width
    if fit == n:
        return n, False
    if p.words and p.kind[fit] == _L:
        # the line ends in a Latin cluster: split its words into characters, so that what follows sees
        # exactly the glyphs a character-by-character breaker would (hyphenation, push-in, last resorts)
        i = fit
        while i > 0 and p.kind[i - 1] == _L:
            i -= 1
        j = fit + 1
        while j < p.n and p.kind[j] == _L:
            j += 1
        if _explode_range(p, i, j) != j:
            n = p.n
            k = s + 1
            while k <= n and cum[k] - base <= W + _EPS:
                k += 1
            fit = k - 1
    elif p.words and p.nst[fit]:
        # the line ends inside a run of Han characters, where a line may end anywhere: split the run after
        # the characters that fit (none fitting: the run is looked at character by character below)
        run, f, sz = p.ch[fit], p.face[fit], p.size[fit]
        c = cum[fit] + gap[fit]
        q = 0
        for han in run[:-1]:
            c += f.advance(han) * sz
            if c - base > W + _EPS:
                break
            q += 1
        if q:
            _split(p, fit, q)
            fit += 1
            n = p.n
    if fit > s and brk[fit] == _OK:
        return fit, False
    _hyphenate_at(p, fit)
    if hang and fit > s and ch[fit] in HANGABLE and (fit + 1 == n or brk[fit + 1] in (_OK, _HYPH)):
        return fit + 1, True
    # push in: the nearest allowed break after the natural end whose line fits once punctuation is squeezed
    b = fit + 1
    while b <= n:
        if p.nst[b - 1]:                            # a Han run to push in: one character at a time
            _explode(p, b - 1)
            n = p.n
        w, e = _line_width(p, s, b)
        if w - _shrinkable(p, s, e) > W + _EPS:
            break
        if brk[b] in (_OK, _HYPH):
            return b, False
        b += 1
    # pull out: the last allowed break before it (a Han run before it gives up its last character)
    b0 = fit + 1
    while b0 > s + 1:
        b0 -= 1
        if p.nst[b0 - 1]:
            d = _explode(p, b0 - 1)
            b0 += d
            fit += d
        if brk[b0] in (_OK, _HYPH) and _line_width(p, s, b0)[0] <= W + _EPS:
            if _too_loose(p, s, b0, W) or _unfittable_after(p, b0, W):
                # a long URL (or similar) follows: break inside it here rather than leave this line
                # letterspaced or half empty
                for b in range(fit, b0, -1):
                    if brk[b] == _EMERG and _line_width(p, s, b)[0] <= W + _EPS:
                        return b, False
            return b0, False
    if p.words:                                     # last resorts may fall inside any word of the line
        fit = _explode_range(p, s, fit)
    for level in ((_EMERG,), (_ANY,)):
        for b in range(fit, s, -1):
            if brk[b] in level and _line_width(p, s, b)[0] <= W + _EPS:
                return b, False
    return max(fit, s + 1), False                   # a single glyph wider than the measure


def _shrinkable(p: _Para, s: int, e: int) -> float:
    """How much the line [s, e) can shrink.  On a character grid only the marks at the line end may be
    squeezed (the pushed-in mark shares the last cell), so every other character stays on the grid."""
    if p.grid is None:
        return p.scum[e] - p.scum[s]
    i = e
    while i > s and p.kind[i - 1] == _P:
        i -= 1
    return p.scum[e] - p.scum[i]


def _unfittable_after(p: _Para, b0: int, W: float) -> bool:
    """Whether the unbreakable stretch after break b0 is too wide for a line of its own."""
    n, brk = p.n, p.brk
    t = b0
    while t < n and p.kind[t] == _S:
        t += 1
    nb = t + 1
    while True:
        if nb <= p.n and p.nst[nb - 1]:             # a Han run may break after its first character
            _explode(p, nb - 1)
        if nb >= p.n or brk[nb] in (_OK, _HYPH):
            break
        nb += 1
    w, e = _line_width(p, t, nb)
    return w - _shrinkable(p, t, e) > W + _EPS


def _too_loose(p: _Para, s: int, b: int, W: float) -> bool:
    """A line that could only be justified by letter-spacing a word (a lone word before a long URL)."""
    w, e = _line_width(p, s, b)
    return w < W - _EPS and not any(p.stre[s + 1:e]) and not any(p.nst[s:e])


def break_lines(runs: Sequence[Run], width: float, fmt: ParaFormat, *,
                first_width: float | None = None) -> list[Line]:
    """Break a paragraph into lines of ``width`` pt (the first line ``first_width`` if given).

    Returns [] for a paragraph with no visible characters; each explicit newline ends a line that is not
    justified, and an empty segment between two newlines gives an empty line."""
    runs = [r for r in runs if r.text]
    if len(runs) == 1 and not fmt.grid_pitch and not fmt.tracking:
        line = _one_word(runs[0], width if first_width is None else first_width, fmt)
        if line is not None:
            return [line]
        if LATIN_FAST and fmt.lang == "en" and not fmt.grid_pitch and not fmt.tracking:
            lines = _latin_lines(runs[0], width, fmt, first_width)
            if lines is not None:
                return lines
    # word and Han-run records pay where lines hold many of them; in narrow columns nearly every line end
    # splits one, and characters are cheaper (same result either way)
    words = (WORD_RECORDS and not fmt.grid_pitch and not fmt.tracking
             and min(width, first_width or width) >= _RECORDS_MIN_EM * max((r.style.size for r in runs), default=1))
    segs = _segments(runs, fmt.lang, words=words)
    if not any(seg.n for seg in segs):
        return []
    lines: list[Line] = []
    first = True
    for si, seg in enumerate(segs):
        final_seg = si == len(segs) - 1
        if not seg.n:
            if not final_seg or lines:
                lines.append(_empty_line(runs, final_seg))
            first = False
            continue
        p = _build(seg, fmt)
        s = 0
        while s < p.n:
            W = (first_width if (first and first_width is not None) else width)
            indent = fmt.first_indent if first else 0.0
            W -= indent
            if fmt.grid_pitch:
                W = math.floor(W / fmt.grid_pitch + 1e-6) * fmt.grid_pitch
            b, hangs = _choose_break(p, s, W, fmt.hang_punct)
            last_here = b >= p.n
            line = _set_line(p, s, b, W, indent, fmt, last=last_here and final_seg, stretch=not last_here,
                             hangs=hangs)
            if line is None:                        # a lone word to letterspace: set it by characters
                b = _explode_range(p, s, b)
                line = _set_line(p, s, b, W, indent, fmt, last=last_here and final_seg, stretch=not last_here,
                                 hangs=hangs)
            lines.append(line)
            first = False
            s = b
            while s < p.n and p.kind[s] == _S:
                s += 1
    return lines


def quick_line(runs: Sequence[Run], width: float, fmt: ParaFormat) -> list[Line] | None:
    """``break_lines(runs, width, fmt)`` when the paragraph is a number, a code or a single word that fits
    (see :func:`_one_word`), else None: callers that keep results skip their bookkeeping for these."""
    if len(runs) == 1 and runs[0].text and not fmt.grid_pitch and not fmt.tracking:
        line = _one_word(runs[0], width, fmt)
        if line is not None:
            return [line]
    return None


def _one_word(run: Run, width: float, fmt: ParaFormat) -> Line | None:
    """The common short case — a number, a code, a single word (most table cells) — set directly: one
    run of printable ASCII without spaces, drawn by one face, that fits the measure.  The same line
    the general path sets (one piece, no stretching: it is a paragraph's last line), or None."""
    text = run.text
    if len(text) > 40 or not text.isascii() or not text.isprintable() or " " in text:
        return None
    st, info = _char_info(run.style, fmt.lang)
    face = None
    w = 0.0
    for ch in text:
        t = info.get(ch)
        if t is None:
            t = info[ch] = _describe(st, ch, fmt.lang)
        if face is None:
            face = t[2]
        elif t[2] is not face:
            return None
        w += t[5]
    W = width - fmt.first_indent
    if w > W + _EPS:
        return None
    x0 = fmt.first_indent
    if fmt.align == "center":
        x0 += max(W - w, 0) / 2
    elif fmt.align == "right":
        x0 += max(W - w, 0)
    size = st.size
    pc = Piece(x0, text, face, size, color=st.color, href=st.href, underline=st.underline, width=w)
    return Line([pc], x0 + w, face.ascent * size, face.descent * size, True)


LATIN_FAST = True                               # off: English prose takes the general breaker (reference)
_LATIN_TOKENS: dict = {}                        # style -> word -> (width, face), or None when not one face
_LATIN_TOKENS_MAX = (8, 20000)                  # styles, words per style: ~5 MB a style at most
_UNSEEN = object()


def _latin_token(st: TextStyle, info: dict, tok: str):
    """(width, face) of a space-free ASCII word (punctuation included) set in one face, widths summed character by character as
    the general breaker sums them; None when its characters need more than one face."""
    face = None
    w = 0.0
    for ch in tok:
        t = info.get(ch)
        if t is None:
            t = info[ch] = _describe(st, ch, "en")
        if face is None:
            face = t[2]
        elif t[2] is not face or t[3] != _L:
            return None
        w += t[5]
    return w, face


def _latin_lines(run: Run, width: float, fmt: ParaFormat, first_width: float | None) -> list[Line] | None:
    """English prose — one style, printable ASCII, one face, no URL — broken on whole words.

    The lines are the ones the general breaker sets (same breaks, hyphens, squeezing and word spacing; a
    test compares every glyph), found without per-glyph arrays: the natural line end is located on word
    widths and only the word it falls in is looked at character by character, with the general breaker's
    rules (push in by squeezing word spaces to 4/5, dictionary hyphenation of that word, pull out to the
    last allowed break).  Returns None — the caller takes the general path — for anything rarer: a word
    wider than the line, a lone word that would need letterspacing, a slash, hanging punctuation."""
    text = run.text
    if fmt.hang_punct or "/" in text or not text.isascii() or not text.isprintable():
        return None
    st, info = _char_info(run.style, "en")
    if st.mono:
        return None
    toks = text.split()
    m = len(toks)
    if m < 2:
        return None
    cache = _LATIN_TOKENS.get(st)
    if cache is None or len(cache) > _LATIN_TOKENS_MAX[1]:
        if len(_LATIN_TOKENS) >= _LATIN_TOKENS_MAX[0]:
            _LATIN_TOKENS.clear()
        cache = _LATIN_TOKENS[st] = {}
    tw = []
    face = None
    for t in toks:
        r = cache.get(t, _UNSEEN)
        if r is _UNSEEN:
            r = cache[t] = _latin_token(st, info, t)
        if r is None:
            return None
        if face is None:
            face = r[1]
        elif r[1] is not face:
            return None
        tw.append(r[0])
    size = st.size
    sp = face.advance(" ") * size                   # a collapsed word space, squeezable by a fifth
    sq = sp / 5
    hyw = face.advance("-") * size
    L = [len(t) for t in toks]
    CT = list(accumulate((w + sp for w in tw), initial=0.0))   # width before each word
    E = [c + w for c, w in zip(CT, tw)]             # width to each word's end
    hyph = fmt.hyphenate
    marks: dict = {}                                # token -> its hyphenation points (once looked up)
    prefix: dict = {}

    def pre(j):                                     # the width before each character of word j
        got = prefix.get(j)
        if got is None:
            got = prefix[j] = list(accumulate(((info.get(c) or _describe(st, c, "en"))[5] for c in toks[j]),
                                              initial=0.0))
        return got

    # A glyph position is (word j, offset q): q < len(word) a character, q == len(word) the space after it
    # (after the last word: the paragraph's end).  Positions order as tuples do.
    end = (m - 1, L[m - 1])

    def cum(j, q):                                  # natural width of the glyphs before (j, q)
        return CT[j] + (tw[j] if q == L[j] else pre(j)[q])

    def inner_brk(t, q):                            # inside a word, 0 < q < len(t)
        a, b = t[q - 1], t[q]
        if a == "-" and b.isalnum() and q >= 2 and t[q - 2].isalnum():
            return _OK                              # after the hyphen of a compound
        return _ANY if (a not in NO_END and b not in NO_START) else _NO

    def brk(j, q):                                  # the break kind before (j, q)
        if q == L[j]:
            return _OK if j == m - 1 else _NO       # the paragraph's end; before a space
        t = toks[j]
        if q == 0:
            if j == 0:
                return _NO
            return _NO if (t[0] in NO_START or toks[j - 1][-1] in NO_END) else _OK
        r = inner_brk(t, q)
        if r == _ANY and j in marks and q in marks[j]:
            return _HYPH
        return r

    def width_to(base, j, q):
        """_line_width from the glyph whose cum is ``base`` to a break before (j, q) > start: (width, the
        position after the last kept glyph, the break kind)."""
        r = brk(j, q)
        if q == 0:                                  # the glyph before is a space: not kept
            j -= 1
            q = L[j]
        w = cum(j, q) - base
        if r == _HYPH:
            w += hyw
        return w, j, q, r

    def hyphenate_at(j, q):                         # the dictionary's points of the word a line end falls in
        if not hyph or q == 0 or q == L[j] or j in marks:
            return
        got = marks[j] = set()
        t = toks[j]
        a, b = 0, L[j]
        while a < b and not t[a].isalpha():
            a += 1
        while b > a and not t[b - 1].isalpha():
            b -= 1
        for start, part in _compound_parts(t[a:b], a):
            if _hyphenatable(part):
                for off in _hyphen_points(part):
                    if inner_brk(t, start + off) == _ANY:
                        got.add(start + off)

    def choose(js, qs, W):
        base = cum(js, qs)
        lim = W + _EPS
        jj = bisect_right(E, base + lim, js)        # the first word that does not fit
        while jj < m and E[jj] - base <= lim:
            jj += 1
        while jj > js and E[jj - 1] - base > lim:
            jj -= 1
        if jj == m:
            return end
        if jj == js:
            return None                             # the line's first word does not fit: general path
        if CT[jj] - base > lim:
            fj, fq = jj - 1, L[jj - 1]              # the space before word jj does not fit
        else:
            p, c0 = pre(jj), CT[jj] - base
            fj, fq, last_q = jj, 0, L[jj] - 1
            while fq < last_q and c0 + p[fq + 1] <= lim:
                fq += 1
        if brk(fj, fq) == _OK:
            return fj, fq
        hyphenate_at(fj, fq)
        # push in (squeezing word spaces to 4/5): the nearest allowed break after the natural end
        j, q = (fj, fq + 1) if fq < L[fj] else (fj + 1, 0)
        while j < m:
            w, ej, _, r = width_to(base, j, q)
            if w - (ej - js) * sq > lim:
                break
            if r == _OK or r == _HYPH:
                return j, q
            if q < L[j]:
                q += 1
            else:
                j, q = j + 1, 0
        # pull out: the last allowed break before it
        j, q = fj, fq
        while (j, q) > (js, qs):
            w, _, _, r = width_to(base, j, q)
            if (r == _OK or r == _HYPH) and w <= lim:
                return j, q
            if q:
                q -= 1
            else:
                j, q = j - 1, L[j - 1]
        return None

    def set_line(js, qs, bj, bq, W, indent, last):
        base = cum(js, qs)
        nat_w, je, qe, r = width_to(base, bj, bq)
        hyphen = r == _HYPH
        k = je - js                                 # word spaces on the line
        slack = W - nat_w
        sqz = 0.0
        if slack < -_EPS and k:
            sqz = min(1.0, -slack / (k * sq)) * sq
            slack += k * sqz
        per = 0.0
        if slack > _EPS and not last and fmt.align == "justify":
            if not k:
                return None                         # a lone word to letterspace: general path
            per = slack / k
            slack -= per * k
        x0 = indent
        if fmt.align == "center":
            x0 += max(slack, 0) / 2
        elif fmt.align == "right":
            x0 += max(slack, 0)
        txt = toks[js][qs:qe] if js == je else " ".join([toks[js][qs:], *toks[js + 1:je], toks[je][:qe]])
        w = cum(je, qe) - base + k * (per - sqz)
        pieces = [Piece(x0, txt, face, size, 0.0, st.color, st.href, st.underline, w, 0.0,
                        per - sqz if k else 0.0)]
        end_x = x0 + w
        hy = None
        if hyphen:
            hy = Piece(end_x, "-", face, size, color=st.color, width=hyw)
            end_x += hyw
        return Line(pieces, end_x, max(face.ascent * size, 0.0), max(face.descent * size, 0.0), last, hy)

    lines: list[Line] = []
    j, q = 0, 0
    first = True
    while (j, q) != end:
        W = first_width if (first and first_width is not None) else width
        indent = fmt.first_indent if first else 0.0
        W -= indent
        b = choose(j, q, W)
        if b is None:
            return None
        line = set_line(j, q, *b, W, indent, b == end)
        if line is None:
            return None
        lines.append(line)
        first = False
        j, q = b
        if q == L[j] and j < m - 1:                 # a line never starts with a space
            j, q = j + 1, 0
    return lines


def _empty_line(runs, last) -> Line:
    st = runs[0].style
    fam = (st.fonts.cjk or st.fonts.latin)[0]
    f = fam.regular
    return Line([], 0.0, f.ascent * st.size, f.descent * st.size, last)


# ------------------------------------------------------------------------------------------------ setting

def _set_line(p: _Para, s: int, b: int, W: float, indent: float, fmt: ParaFormat, *,
              last: bool, stretch: bool, hangs: bool) -> Line:
    gap = p.gap
    if hangs:
        e_main = b - 1                              # the hanging mark sits outside the measure
        nat_w, _ = _line_width(p, s, e_main)
        e = b
    else:
        nat_w, e = _line_width(p, s, b)
        e_main = e
    hyphen = p.brk[b] == _HYPH and b < p.n
    slack = W - nat_w
    # shrink: squeeze punctuation (and word spaces) toward half width, from the line end backwards —
    # line-end marks first, as CLREQ prefers, and on a character grid as few characters leave the grid
    squeeze = None
    if slack < -_EPS:
        need = -slack
        squeeze = {}
        sqL, sqR = p.sqL, p.sqR
        kind = p.kind
        for i in range(e_main - 1, s - 1, -1):
            if need <= _EPS:
                break
            take = sqL[i] + sqR[i]
            if take > 0 and kind[i] != _S:
                take = min(need, take)
                squeeze[i] = take
                need -= take
        if need > _EPS:                             # word spaces: evenly
            spaces = [i for i in range(s, e_main) if kind[i] == _S]
            avail = sum(sqR[i] for i in spaces)
            if avail > 0:
                f = min(1.0, need / avail)
                for i in spaces:
                    squeeze[i] = f * sqR[i]
        slack += sum(squeeze.values())
    # stretch: equal extra space at every CJK inter-character boundary, CJK–Latin gap and word space
    stre = p.stre
    per = 0.0
    every = False
    if slack > _EPS and stretch and fmt.align == "justify" and not fmt.grid_pitch:
        count = sum(stre[s + 1:e_main]) + sum(p.nst[s:e_main])   # Han runs: their inner boundaries
        if count:
            per = slack / count
        elif e_main - s > 1 or len(p.ch[s]) > 1:
            if p.words and any(len(c) > 1 for c in p.ch[s:e_main]):
                return None                         # letterspacing needs characters: the caller explodes
            # nothing but a lone word or URL: letterspace it a little, never so much that text extraction
            # (pdfplumber splits words at gaps over 3 pt) sees the letters as separate words
            count = e_main - s - 1
            per = min(slack / count, 0.1 * p.size[s], 2.0)
            every = True
        slack -= per * count
    x0 = indent
    if fmt.align == "center" and not fmt.grid_pitch:
        x0 += max(slack, 0) / 2
    elif fmt.align == "right" and not fmt.grid_pitch:
        x0 += max(slack, 0)
    # place the glyphs: x of each glyph's advance from the line's left edge, in one running sum
    nat, trimL, sqL, fadv = p.nat, p.trimL, p.sqL, p.fadv
    if squeeze:
        sq = [squeeze.get(i, 0.0) for i in range(s, e)]
        w = [a - q for a, q in zip(nat[s:e], sq)]
        off = [t + (q if l else 0.0) for t, q, l in zip(trimL[s:e], sq, sqL[s:e])]   # blank on one side only
    else:
        w = nat[s:e]
        off = trimL[s:e] if p.trimmed else None
    nst = p.nst
    fx, fx0 = fadv, 0                               # extent of each record: a Han run's spacing inside it
    if per and not every and p.words:
        ns = nst[s:e]
        if any(ns):
            w = [a + per * k for a, k in zip(w, ns)]
            fx, fx0 = [a + per * k for a, k in zip(fadv[s:e], ns)], s
    if per and every:
        steps = [g + per + a for g, a in zip(gap[s + 1:e], w)]
    elif per:
        steps = [g + per + a if t else g + a for g, t, a in zip(gap[s + 1:e], stre[s + 1:e], w)]
    else:
        steps = [g + a for g, a in zip(gap[s + 1:e], w)]
    xs = list(accumulate(steps, initial=x0))
    dx = [x - o for x, o in zip(xs, off)] if off else xs
    end_x = xs[e_main - 1 - s] + w[e_main - 1 - s] if e_main > s else x0   # a hanging mark does not count
    # group them into pieces: a piece continues while face and look match and the spacing after each glyph
    # is one constant Tc (plus one constant Tw after spaces); Tc would also space the letters inside a word
    chs, faces, styles = p.ch, p.face, p.style
    csl = chs[s:e]
    ext = fx[s - fx0:e - fx0]
    gaps = [b - a - x for a, b, x in zip(dx, dx[1:], ext)]     # from each glyph's advance to the next glyph
    pieces: list[Piece] = []
    k0 = k = 0
    f, st, prev_c = faces[s], styles[s], csl[0]
    # the Tc a piece must have: a word's letters take none, a Han run's characters the line's spacing
    req = cs = (per if nst[s] else 0.0) if len(prev_c) > 1 else None
    ws = None
    for f2, st2, c, g, nk in zip(faces[s + 1:e], styles[s + 1:e], csl[1:], gaps, nst[s + 1:e]):
        k += 1
        ok = f2 is f and (st2 is st or _same_look(st2, st))
        if ok:
            nws = ws
            if prev_c == " ":
                ncs = 0.0 if cs is None else cs
                if ws is None:
                    nws = g - ncs
                elif not -1e-6 <= g - ncs - ws <= 1e-6:
                    ok = False
            elif cs is None:
                ncs = g
            elif -1e-6 <= g - cs <= 1e-6:
                ncs = cs
            else:
                ok = False
            if ok:
                if len(c) > 1:
                    r = per if nk else 0.0
                    if req is not None and req != r or not -1e-6 <= ncs - r <= 1e-6:
                        ok = False
                    else:
                        req = r
                elif req is not None and not -1e-6 <= ncs - req <= 1e-6:
                    ok = False
        if ok:
            cs, ws = ncs, nws
        else:
            x_start = dx[k0]
            # positional: (x, text, face, size, char_space, color, href, underline, width, rise, word_space)
            pieces.append(Piece(x_start, "".join(csl[k0:k]), f, st.size, cs or 0.0, st.color, st.href,
                                st.underline, dx[k - 1] + ext[k - 1] - x_start, 0.0, ws or 0.0))
            k0, f, st = k, f2, st2
            req = cs = (per if nk else 0.0) if len(c) > 1 else None
            ws = None
        prev_c = c
    x_start = dx[k0]
    pieces.append(Piece(x_start, "".join(csl[k0:]), f, st.size, cs or 0.0, st.color, st.href, st.underline,
                        dx[-1] + ext[-1] - x_start, 0.0, ws or 0.0))
    hy = None
    if hyphen:
        f, sz = p.face[e - 1], p.size[e - 1]
        hy = Piece(end_x, "-", f, sz, color=p.style[e - 1].color, width=f.advance("-") * sz)
        end_x += hy.width
    asc = desc = 0.0
    for pc in pieces:
        a, d = pc.face.ascent * pc.size, pc.face.descent * pc.size
        if a > asc:
            asc = a
        if d > desc:
            desc = d
    return Line(pieces, end_x, asc, desc, last, hy)


def _same_look(a: TextStyle, b: TextStyle | None) -> bool:
    return (b is not None and a.size == b.size and a.color == b.color and a.href == b.href
            and a.underline == b.underline)


_COVERED: dict = {}      # (fonts, bold, italic, mono, lang) -> (characters seen, those no font covers)


def missing_chars(runs: Sequence[Run], lang: str = "zh") -> list[str]:
    """Characters no font in the run's stack covers, in order of first appearance."""
    out: list[str] = []
    for r in runs:
        st = r.style
        key = (st.fonts, st.bold, st.italic, st.mono, lang)
        got = _COVERED.get(key)
        if got is None:
            if len(_COVERED) > 256:
                _COVERED.clear()
            got = _COVERED[key] = (set(), set())
        seen, missing = got
        text = r.text
        if not seen.issuperset(text):
            for ch in set(text) - seen:
                seen.add(ch)
                if not (ch.isspace() or st.fonts.face_for(ch, st.bold, st.italic, st.mono, lang) is not None):
                    missing.add(ch)
        if missing and not missing.isdisjoint(text):
            out += [ch for ch in dict.fromkeys(r.text) if ch in missing and ch not in out]
    return out


# ------------------------------------------------------------------------------------------------ drawing

def _n(v: float) -> str:
    s = "%.3f" % v
    return s.rstrip("0").rstrip(".") if "." in s else s


def _tables(font, doc) -> tuple:
    """Our encoding tables for ``font`` in ``doc``: (char -> byte, char -> subset, characters known,
    (subset, size) -> Tf operator).  They live on ReportLab's own per-document font state, so they last exactly
    as long as the codes they mirror."""
    state = font.state.get(doc)
    tabs = getattr(state, "_docgen_tables", None)
    if tabs is None:
        font.splitString("", doc)                   # creates the state
        state = font.state[doc]
        tabs = state._docgen_tables = ({}, {}, set(), {})
    return tabs


_SAME_RUN = re.compile(r"(.)\1*", re.S)         # a run of one repeated character (here: one subset)


def _encode(font, doc, text: str, tabs=None) -> list[tuple[int, bytes]]:
    """``font.splitString(text, doc)`` — the (subset, bytes) chunks of ReportLab's TrueType subsetting —
    with the per-character work done by ``str.translate``.  Characters are still assigned their codes by
    ReportLab (in order of first appearance, one call each)."""
    low, sub, known, _ = tabs or _tables(font, doc)
    if not known.issuperset(text):
        for ch in dict.fromkeys(text):
            if ch not in known:
                (k, b), = font.splitString(ch, doc)
                low[ord(ch)] = chr(b[0])
                sub[ord(ch)] = chr(k)
                known.add(ch)
                if k:
                    sub[-1] = True                  # the font has gone past its first subset
    data = text.translate(low).encode("latin-1")
    if -1 not in sub:                               # one subset so far (every Latin font, most pages)
        return [(0, data)]
    subs = text.translate(sub)
    first = subs[0]
    if subs.count(first) == len(subs):
        return [(ord(first), data)]
    return [(ord(m.group(1)), data[m.start():m.end()]) for m in _SAME_RUN.finditer(subs)]


def _subset_font(font, doc, tabs, sub: int, size: float) -> str:
    """The Tf operator for one subset of ``font`` (ReportLab registers the subset on first use)."""
    names = tabs[3]
    op = names.get((sub, size))
    if op is None:
        op = names[(sub, size)] = "%s %s Tf" % (font.getSubsetInternalName(sub, doc), _n(size))
    return op


def _rgb(c) -> tuple | None:
    """The canvas's current colour as an RGB tuple: ReportLab keeps a tuple (set*ColorRGB) or a Color;
    None when it is something else (CMYK, a named separation), so the caller sets and restores it."""
    if c.__class__ is tuple and len(c) == 3:
        return c
    return tuple(c.rgb()) if hasattr(c, "rgb") else None


def draw_line(canvas, line: Line, x0: float, baseline: float) -> None:
    """Draw one line with its left edge at ``x0`` and its baseline at ``baseline`` on a ReportLab canvas
    (see :func:`draw_lines`)."""
    draw_lines(canvas, ((line, x0, baseline),))


def draw_lines(canvas, placed) -> None:
    """Draw lines, each given as (line, left edge x0, baseline), on a ReportLab canvas, in that order.

    Writes one PDF text object (BT … ET) for all of them: per piece Tf/Tc/Tw only when they change, a text
    matrix and the glyphs, encoded through ReportLab's TrueType subsetting exactly as ``textOut`` does
    (the same operators ``beginText``/``setFont``/``setCharSpace``/``textOut`` would write, without their
    per-call overhead); underlines, link annotations and hyphens follow the text object.  Leaves Tc, Tw,
    Ts, the render mode and the colours as it found them."""
    doc = canvas._doc
    escape = escapePDF
    fonts = canvas.__dict__.get("_docgen_tables")        # font -> its tables, for this canvas's document
    if fonts is None:
        fonts = canvas._docgen_tables = {}
    flip = "1 0 0 1 " if canvas.bottomup else "1 0 0 -1 "
    code = ["BT"]
    add = code.append
    canvas_rgb = _rgb(getattr(canvas, "_fillColorObj", None))
    color = canvas_rgb
    font = subset = cs = ws = tabs = None
    size = rise = 0.0
    mode = 0
    emboldened = False
    extras = []                                     # lines with underlines, links or a hyphen
    for line, x0, baseline in placed:
        if line.hyphen is not None:
            extras.append((line, x0, baseline))
        y = " %.3f Tm" % baseline
        for pc in line.pieces:
            face = pc.face
            f = face._rl
            if f is not font or pc.size != size:
                font, size, subset = f, pc.size, None
                tabs = fonts.get(f)
                if tabs is None:
                    tabs = fonts[f] = _tables(f, doc)
            pcs, pws = pc.char_space, pc.word_space
            if pcs != cs:
                cs = pcs
                add("%.3f Tc" % cs)
            if pws != ws and (pws or " " in pc.text):
                ws = pws
                add("%.3f Tw" % ws)
            if pc.color != color:
                color = tuple(pc.color)
                add("%s %s %s rg" % (_n(color[0]), _n(color[1]), _n(color[2])))
            want = 2 if face.synthetic_bold else 0
            if want != mode:
                if want:
                    # fill + stroke at 3 % of the size emboldens a single-weight font
                    add("%s %s %s RG %s w" % (*(_n(c) for c in pc.color), _n(pc.size * 0.03)))
                    emboldened = True
                add("%d Tr" % want)
                mode = want
            if pc.rise != rise:
                rise = pc.rise
                add(_n(rise) + " Ts")
            if pc.underline or pc.href:
                if not extras or extras[-1][0] is not line:
                    extras.append((line, x0, baseline))
            add("%s%.3f%s" % (flip, x0 + pc.x, y))
            chunks = _encode(font, doc, pc.text, tabs)
            if len(chunks) == 1:
                sub, chunk = chunks[0]
                if sub != subset:
                    subset = sub
                    add(_subset_font(font, doc, tabs, sub, size))
                add("(%s) Tj" % escape(chunk))
                continue
            # after a subset switch the next string opens with a zero displacement, [0 (…)] TJ: Tc follows
            # every glyph, a string's last one included (PDF 32000 9.3.2), but pdfminer (so pdfplumber) adds
            # it only between the glyphs of one string or after a number in a TJ array; the 0 makes both agree
            spaced = pcs or pws
            for k, (sub, chunk) in enumerate(chunks):
                if sub != subset:
                    subset = sub
                    add(_subset_font(font, doc, tabs, sub, size))
                add(("[0 (%s)] TJ" if k and spaced else "(%s) Tj") % escape(chunk))
    if len(code) > 1:
        if cs:
            add("0 Tc")
        if ws:
            add("0 Tw")
        if rise:
            add("0 Ts")
        if mode:
            add("0 Tr")
        add("ET")
        canvas._code.append(" ".join(code))
        if color != canvas_rgb:
            # restore the fill colour the canvas believes is current
            canvas._code.append("%s %s %s rg" % tuple(_n(c) for c in (canvas_rgb or (0, 0, 0))))
        if emboldened:
            rgb = _rgb(getattr(canvas, "_strokeColorObj", None)) or (0, 0, 0)
            canvas._code.append("%s %s %s RG %s w" % (*(_n(c) for c in rgb), _n(getattr(canvas, "_lineWidth", 1))))
    for line, x0, baseline in extras:
        _draw_extras(canvas, line, x0, baseline)


def _draw_extras(canvas, line: Line, x0: float, baseline: float) -> None:
    """A line's underlines, link annotations and hyphen, drawn after its text."""
    for pc in line.pieces:
        if pc.underline:
            canvas.saveState()
            canvas.setStrokeColorRGB(*pc.color)
            canvas.setLineWidth(pc.size * 0.05)
            y = baseline - pc.size * 0.12
            canvas.line(x0 + pc.x, y, x0 + pc.x + pc.width, y)
            canvas.restoreState()
        if pc.href:
            canvas.linkURL(pc.href, (x0 + pc.x, baseline - pc.face.descent * pc.size,
                                     x0 + pc.x + pc.width, baseline + pc.face.ascent * pc.size),
                           relative=1, thickness=0)
    h = line.hyphen
    if h is not None:
        # drawn as a filled path so that the text layer keeps the word whole
        box = h.face.ink("-") or (0.05, 0.22, h.width / h.size - 0.05, 0.29)
        canvas.saveState()
        canvas.setFillColorRGB(*h.color)
        canvas.rect(x0 + h.x + box[0] * h.size, baseline + box[1] * h.size,
                    (box[2] - box[0]) * h.size, (box[3] - box[1]) * h.size, stroke=0, fill=1)
        canvas.restoreState()
