"""The general CLREQ line breaker: styled runs, a measure and a ParaFormat in, set lines out.

:func:`break_lines` flattens a paragraph's :class:`~docgen.typeset.text.Run` s into glyph records per
forced-break segment (a whole ASCII word or run of Han characters is one record, split into characters
only where a line end needs a boundary inside it), chooses each line's end by the rules of the W3C
"Requirements for Chinese Text Layout" (CLREQ) — line-start/line-end prohibitions resolved by pushing
punctuation in (compressing full-width marks toward half width) or pulling a character out, never by
overflowing the measure; ——/…… never split; Latin words, numbers and URLs kept whole; ¼ em between Han
and Latin; optional character grid and hanging punctuation; dictionary hyphenation for English — and sets
each line as a few :class:`~docgen.typeset.text.Piece` s justified by inter-character spacing in Chinese
and word spacing in English, ready for typeset/textobject.py.  A full-width mark ending a justified line
gives up its blank half (CLREQ 3.1.6; ``ParaFormat.compress_end``).  First fit is tried first; where it
leaves a line looser than the ``_PRE_`` bounds, two hyphens in a row or a 孤字, the segment is broken again
by total fit (Knuth & Plass) over the same CLREQ break opportunities, glyph by glyph.  One-word paragraphs
(:func:`quick_line`) and plain English prose (typeset/latin.py, whose first-fit lines pass the same test)
take shorter paths to the same lines.
"""
from __future__ import annotations

import math
import re
from dataclasses import replace
from itertools import accumulate
from operator import add
from typing import Any, Sequence

from .fonts import cluster_face, clusters, is_cluster_inner
from .latin import Refit, latin_lines
from .text import (ANYWHERE, BREAK, CJK, EMERGENCY, EPS, HANGABLE, HYPHEN_POINT, LATIN, NO_BREAK, NO_END,
                   NO_START, NO_STRETCH_PAIRS, PUNCT, SPACE, Line, ParaFormat, Piece, Run, TextStyle, char_info,
                   compound_parts, describe, hyphen_points, hyphenatable, kind_of, overhang)

class _Para:
    """One forced-break segment of a paragraph as parallel per-glyph arrays (pt unless noted)."""

    __slots__ = ("ch", "face", "size", "style", "kind", "fadv", "nat", "trimL", "trimR", "sqL", "sqR",
                 "gap", "gsq", "brk", "cum", "scum", "n", "mono", "stre", "grid", "hyph", "words", "nst", "trimmed",
                 "spaced")

    # per-glyph arrays, filled by _segments (the first ten) and _build (the rest)
    ch: list[str]
    face: list[Any]
    size: list[float]
    style: list[Any]
    kind: list[int]
    fadv: list[float]
    sqL: list[float]
    sqR: list[float]
    mono: list[bool]
    nst: list[Any]
    nat: list[float]
    trimL: list[float]
    trimR: list[float]
    gap: list[float]
    gsq: list[float]
    brk: list[int]
    cum: list[float]
    scum: list[float]
    stre: list[float]
    grid: float | None
    hyph: set[int] | None
    trimmed: bool
    spaced: set[int]       # glyphs after a space of the text that vanished (a CJK–Latin boundary)
    n: int
    words: bool

    def __init__(self):
        for a in ("ch", "face", "size", "style", "kind", "fadv", "sqL", "sqR", "mono", "nst"):
            setattr(self, a, [])
        self.n = 0
        self.words = False
        self.spaced = set()




_FIELDS = ("ch", "style", "face", "kind", "size", "fadv", "sqL", "sqR", "mono", "nst")
_RECORDS_MIN_EM = 18                            # narrower measures (in em of the largest size) use characters
_WORD = re.compile(r"([A-Za-z0-9]{2,}|[\u3400-\u4dbf\u4e00-\u9fff]{2,})")
_WORD_EN = re.compile(r"([A-Za-z0-9]{2,})")       # English: Han characters are never spaced apart
_WHITESPACE = re.compile(r"\s")
_WHITESPACE_SPLIT = re.compile(r"(\s)")
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
            t = info[ch] = describe(st, ch, lang)
        recs.append(t)
    face = recs[0][2]
    kind = LATIN if w[0] < "\x80" else CJK
    if (kind == LATIN or not st.mono) and all(r[2] is face and r[3] == kind for r in recs):
        adv = 0.0
        for r in recs:
            adv += r[5]
        return (w, st, face, kind, st.size, adv, 0.0, 0.0, st.mono, 0 if kind == LATIN else len(w) - 1)
    return recs


def _word_space(prev: tuple, st: TextStyle) -> tuple:
    """The record of a collapsed space kept between two Latin glyphs: set in the previous glyph's face and
    size, squeezable by a fifth of its width."""
    w = prev[2].advance(" ") * prev[4]
    return (" ", st, prev[2], SPACE, prev[4], w, 0.0, w / 5, False, 0)


def _keep_space(cur: list, pending: TextStyle, nxt: tuple, spaced: set) -> None:
    """A collapsed space (in style ``pending``) before the record ``nxt``: kept as a word space only between
    two Latin glyphs (between CJK characters and at CJK–Latin boundaries it vanishes, and ``spaced`` notes
    the glyph it stood before, for the text layer).  Returns None, the caller's new ``pending``."""
    if cur[-1][3] == LATIN and nxt[3] == LATIN:
        cur.append(_word_space(cur[-1], pending))
    else:
        spaced.add(len(cur))
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
    spaced: set[int] = set()
    add = cur.append
    pending = None                              # style of a collapsed space waiting for its right neighbour
    for run in runs:
        st, info = char_info(run.style, lang)
        if _CLUSTER_MARKS.search(run.text) is not None:
            # emoji sequences (VS16, ZWJ, flags, skin tones): each cluster in one face, one record a
            # character; _build keeps a cluster on one line
            for cl in clusters(run.text):
                if len(cl) > 1:
                    recs = _cluster_records(st, cl, lang)
                else:
                    t = info.get(cl)
                    if t is None:
                        t = info[cl] = describe(st, cl, lang)
                    if t.__class__ is str:
                        if t == "\n":
                            segs.append((cur, spaced))
                            cur, spaced = [], set()
                            add = cur.append
                            pending = None
                        elif cur:
                            pending = st
                        continue
                    recs = [t]
                if pending is not None:
                    pending = _keep_space(cur, pending, recs[0], spaced)
                cur.extend(recs)
            continue
        if words:
            if len(info) > _WORD_CACHE_MAX:
                info.clear()
            parts = (_WORD if lang == "zh" else _WORD_EN).split(run.text)
        else:
            # characters: whitespace apart, so the text between is looked up in bulk (below)
            parts = _WHITESPACE_SPLIT.split(run.text)
        for pi, part in enumerate(parts):
            if words and pi & 1:                # a word (odd items of the split)
                t = info.get(part)
                if t is None:
                    t = info[part] = _word_info(st, lang, info, part)
                if t.__class__ is tuple:
                    if pending is not None:
                        pending = _keep_space(cur, pending, t, spaced)
                    add(t)
                    continue
                seq = part                      # mixed faces: character by character
            else:
                if len(part) == 1:              # the usual separator, one mark or space: straight to the loop
                    seq = part
                elif not part:
                    continue
                elif _WHITESPACE.search(part) is None:
                    # no space or newline (a run of Chinese): one record per character, looked up in bulk
                    recs = list(map(info.get, part))
                    if None in recs:
                        recs = [r if r is not None else info.setdefault(c, describe(st, c, lang))
                                for r, c in zip(recs, part)]
                    if pending is not None:
                        pending = _keep_space(cur, pending, recs[0], spaced)
                    cur.extend(recs)
                    continue
                else:
                    seq = part
            for ch in seq:
                t = info.get(ch)
                if t is None:
                    t = info[ch] = describe(st, ch, lang)
                if t.__class__ is str:
                    if t == "\n":
                        segs.append((cur, spaced))
                        cur, spaced = [], set()
                        add = cur.append
                        pending = None
                    elif cur:
                        pending = st
                    continue
                if pending is not None:
                    pending = _keep_space(cur, pending, t, spaced)
                add(t)
    segs.append((cur, spaced))
    out = []
    for seg, sp in segs:
        p = _Para()
        p.n = len(seg)
        p.words = words
        p.spaced = sp
        if seg:
            (p.ch, p.style, p.face, p.kind, p.size, p.fadv, p.sqL, p.sqR, p.mono,
             p.nst) = map(list, zip(*seg))                          # the record fields, as _FIELDS
        out.append(p)
    return out


_CLUSTER_MARKS = re.compile("[\u200d\ufe0e\ufe0f\u20e3\U0001F3FB-\U0001F3FF\U0001F1E6-\U0001F1FF\U000E0020-\U000E007F]")


def _cluster_records(st: TextStyle, cl: str, lang: str) -> list:
    """The glyph records of an emoji cluster: every character in the one face that draws the cluster."""
    face = cluster_face(st.fonts, cl, st.bold, st.italic, st.mono, lang)
    if face is None:
        return [describe(st, c, lang) for c in cl]
    return [(c, st, face, kind_of(c, lang), st.size, face.advance(c) * st.size, 0.0, 0.0, st.mono, 0) for c in cl]


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
    for a in (p.sqL, p.sqR, p.trimL, p.trimR, p.gsq):
        a[j:j] = [0.0] * d
    p.gap[j:j] = [0.0] * d                      # words are only formed without tracking
    han = p.kind[k] == CJK
    # inside a Han run: break and stretch anywhere; inside a word: last resort (and hyphenation, lazily)
    p.brk[j:j] = [BREAK if han else ANYWHERE] * d
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
    if p.spaced:
        p.spaced = {h + d if h > k else h for h in p.spaced}
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
    for a in (p.sqL, p.sqR, p.trimL, p.trimR, p.gap, p.gsq):
        a.insert(j, 0.0)
    p.brk.insert(j, BREAK)                            # between two Han characters
    p.stre.insert(j, True)
    p.cum.insert(j, p.cum[k] + p.gap[k] + head)
    p.scum.insert(j, p.scum[k])
    p.n += 1
    if p.hyph:
        p.hyph = {h + 1 if h > k else h for h in p.hyph}
    if p.spaced:
        p.spaced = {h + 1 if h > k else h for h in p.spaced}


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
    # long English words inside Chinese are hyphenated by the same dictionary as English paragraphs
    hyph = fmt.hyphenate and grid is None
    ch, kind, mono, size, fadv = p.ch, p.kind, p.mono, p.size, p.fadv
    nat = p.nat = list(fadv)
    sqL, sqR = p.sqL, p.sqR
    if grid:
        # squeeze amounts are in pt at the font size: on a grid a mark is squeezed within its cell
        for i in range(n):
            if kind[i] == PUNCT and (sqL[i] or sqR[i]):
                sqL[i] *= grid / size[i]
                sqR[i] *= grid / size[i]
    trimL, trimR = [0.0] * n, [0.0] * n
    gap = [fmt.tracking] * n
    gsq = [0.0] * n                             # how far the CJK–Latin space before glyph i may shrink
    if n:
        gap[0] = 0.0
    if grid:
        for i in range(n):
            if kind[i] in (CJK, PUNCT):
                nat[i] = grid
        padded = _grid_pad_latin(p, grid, nat, trimL)
    # boundaries: the gap before glyph i, whether a line may break there, whether justification may
    # stretch it (after a word space, between CJK glyphs, at CJK–Latin boundaries; not inside a Latin word
    # nor inside ——/……).  Between two Han characters — most of a Chinese paragraph — the answer is always
    # "break allowed, stretchable, no extra gap" unless the second may not start a line or the text is
    # inline code: those boundaries take the defaults and only the others are examined one by one.
    brk = [BREAK] * (n + 1)
    stre = [True] * n
    if n:
        brk[0] = NO_BREAK
        stre[0] = False
    trimmed = []
    for i in [i for i, (ka, kb, b, m) in enumerate(zip(kind, kind[1:], ch[1:], mono), 1)
              if ka != CJK or kb != CJK or b in NO_START or m or b in _FW_DIGITS]:
        a, b = ch[i - 1], ch[i]
        ka, kb = kind[i - 1], kind[i]
        if ka + kb == CJK + PUNCT and ka != kb and not (mono[i - 1] and mono[i]):
            # a Han run and a mark (most boundaries of a Chinese paragraph that are examined): stretchable,
            # no gap; only the break rules below apply
            if b in NO_START or a in NO_END or (a in _FW_DIGITS and b in "．，") or (
                    a in "．，" and b in _FW_DIGITS and i >= 2 and ch[i - 2][-1] in _FW_DIGITS):
                brk[i] = NO_BREAK
            continue
        stre[i] = ka == SPACE or not (kb == SPACE or (ka == LATIN and kb == LATIN) or (a == b and b in NO_STRETCH_PAIRS)
                                      or (ka == CJK and kb == CJK and lang == "en"))
        # the ¼ em CJK–Latin space (CLREQ 3.4.1) goes only between Han/kana and a Latin letter or digit: not
        # around symbols (①, ※, ¹², [1]), nor inside ASCII brackets, nor next to full-width forms
        if (ka == CJK and kb == LATIN and _spaced_pair(a[-1], b[0]) or ka == LATIN and kb == CJK
                and _spaced_pair(b[0], a[-1])) and not grid:
            q = 0.25 * (size[i - 1] if ka == CJK else size[i])
            gap[i] += q
            gsq[i] = q / 2                  # ¼ em, stretching with the line and shrinking to ⅛ em
        if kb == SPACE:
            brk[i] = NO_BREAK
            continue
        if ka == SPACE:
            if b in NO_START or (i >= 2 and ch[i - 2] in NO_END) or (lang == "zh" and i >= 2 and _number_unit(ch, kind, i)):
                brk[i] = NO_BREAK
            continue
        if ka == LATIN and kb == LATIN or (mono[i - 1] and mono[i]):
            brk[i] = ANYWHERE if (a not in NO_END and b not in NO_START) else NO_BREAK
            if mono[i - 1] and mono[i]:
                continue
            a1, b0 = a[-1], b[0]
            if b0 == "/" and a1 not in "/:":
                brk[i] = EMERGENCY          # paths and URLs: before a slash (a solidus must not end a line,
                #                             GB/T 15834 4.1.5), never right after the scheme's "://"
            elif (a1 in _TOKEN_BREAK_AFTER and b0.isalnum() and _in_address(ch, kind, i)
                  and not (a1 == "." and b0.isdigit() and i >= 2 and ch[i - 2][-1].isdigit())):
                brk[i] = EMERGENCY          # inside a URL, path or e-mail: after . - _ ? & = @
            if a == "-" and b.isalnum() and i >= 2 and ch[i - 2].isalnum() and lang == "en":
                brk[i] = BREAK             # after the hyphen of a compound (Chinese keeps Qwen-Image whole)
            continue
        if ka == PUNCT and kb == PUNCT and not grid:
            if a in _QE and b in _QE:
                # ？！, ！！, ？？: the pair takes one character's space (GB/T 15834 4.3/4.4), each mark half
                for j in (i - 1, i):
                    if sqR[j] > 0:
                        trimR[j], sqR[j] = sqR[j], 0.0
                        trimmed.append(j)
            # consecutive punctuation: squeeze the pair to 1.5 em (CLREQ 3.1.6.1)
            elif sqR[i - 1] > 0:
                trimR[i - 1], sqR[i - 1] = sqR[i - 1], 0.0
                trimmed.append(i - 1)
            elif sqL[i] > 0:
                trimL[i], sqL[i] = sqL[i], 0.0
                trimmed.append(i)
        if b in NO_START or a in NO_END or (a in _FW_DIGITS and (b in _FW_DIGITS or b in "．，"))\
                or (a in "．，" and b in _FW_DIGITS and i >= 2 and ch[i - 2][-1] in _FW_DIGITS):
            brk[i] = NO_BREAK               # full-width numbers (６０％, ３．５) stay whole like ASCII ones
    if n > 1 and _CLUSTER_MARKS.search("".join(ch)) is not None:
        # inside an emoji cluster: no line break and no justification space
        for i in is_cluster_inner(ch):
            brk[i] = NO_BREAK
            stre[i] = False
    if lang == "en" and CJK in kind:
        # Han words in an English paragraph are set solid: justification goes to the word spaces
        for i in range(1, n):
            if kind[i] == CJK and kind[i - 1] == CJK:
                stre[i] = False
    # dictionary hyphenation is looked up lazily, only for a word a line end falls in (_choose_break)
    p.hyph = set() if hyph else None
    for i in trimmed:
        nat[i] = fadv[i] - trimL[i] - trimR[i]
    p.trimmed = bool(trimmed) or (grid is not None and padded)
    p.trimL, p.trimR, p.gap, p.brk, p.gsq = trimL, trimR, gap, brk, gsq
    p.stre = stre
    p.cum = list(accumulate(map(add, gap, nat), initial=0.0))
    # squeezable amounts per glyph: its blank sides and the CJK–Latin space before it
    p.scum = list(accumulate(map(add, map(add, sqL, sqR), gsq), initial=0.0))
    return p


_QE = frozenset("？！")
_FW_DIGITS = frozenset("０１２３４５６７８９")
_TOKEN_BREAK_AFTER = frozenset(".-_?&=@")
_UNITS = frozenset("B KB MB GB TB PB kB KiB MiB GiB TiB bit bps kbps Mbps Gbps Hz kHz MHz GHz mm cm m km g kg mg t "
                   "ms s min h d pt px em W kW MW V mV A mA mAh Wh kWh K dB dpi fps ppm".split())


def _spaced_pair(han: str, lat: str) -> bool:
    """Whether the CJK–Latin space goes between the CJK character ``han`` and the Latin one ``lat``."""
    return ("0" <= lat <= "9" or lat.isalpha()) and not ("\uff00" <= han <= "\uffef")


def _in_address(ch: list, kind: list, i: int) -> bool:
    """Whether boundary i lies inside a URL, path, e-mail address or snake_case identifier: a space-free
    Latin token with a slash, an at sign or an underscore (elsewhere — 3.14, A.B.C. — a token stays whole)."""
    a = i - 1
    while a > 0 and kind[a - 1] == LATIN:
        a -= 1
    b = i
    while b < len(ch) and kind[b] == LATIN:
        b += 1
    return any("/" in c or "@" in c or "_" in c for c in ch[a:b])


def _number_unit(ch: list, kind: list, i: int) -> bool:
    """A space at i - 1 between a number and its unit (128 MB, 3 GHz): no line break there."""
    if not (ch[i - 2][-1].isdigit() and ch[i - 2].isascii()):
        return False
    j = i
    while j < len(ch) and kind[j] == LATIN and j - i < 6:
        j += 1
    return "".join(ch[i:j]).rstrip(",.;:!?)") in _UNITS


def _grid_pad_latin(p: _Para, pitch: float, nat: list, trimL: list) -> bool:
    """On a character grid a number or Latin word (with its following space) occupies whole cells, so the
    CJK text around it stays on the grid; the slack is split evenly around it (``2026年3月6日``, not
    ``2026 年3 月6 日``): half before its first glyph (a negative left trim), half after its last.  At a line
    start the word sits flush left instead (see :func:`_set_line`)."""
    kind, n = p.kind, p.n
    padded = False
    for i, j in _latin_words(p):
        if j < n and kind[j] == SPACE:
            j += 1
        w = sum(nat[i:j])
        pad = math.ceil(w / pitch - 1e-6) * pitch - w
        if pad > 1e-6:
            lead = pad / 2
            nat[i] += lead
            trimL[i] -= lead
            nat[j - 1] += pad - lead
            padded = True
    return padded


def _latin_words(p: _Para):
    """(start, end) of each run of Latin glyphs."""
    kind, n = p.kind, p.n
    i = 0
    while i < n:
        if kind[i] != LATIN:
            i += 1
            continue
        j = i
        while j < n and kind[j] == LATIN:
            j += 1
        yield i, j
        i = j


def _hyphenate_at(p: _Para, k: int) -> None:
    """Mark the dictionary hyphenation points of the Latin word that a break at ``k`` would fall inside."""
    kind = p.kind
    if p.hyph is None or k <= 0 or k >= p.n or kind[k] != LATIN or kind[k - 1] != LATIN:
        return
    i = k
    while i > 0 and kind[i - 1] == LATIN:
        i -= 1
    if i in p.hyph:
        return
    p.hyph.add(i)
    j = k
    while j < p.n and kind[j] == LATIN:
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
    for part_start, part in compound_parts(core, a):
        if hyphenatable(part) and not any(p.mono[part_start:part_start + len(part)]):
            for off in hyphen_points(part):
                if brk[part_start + off] == ANYWHERE:
                    brk[part_start + off] = HYPHEN_POINT


def _line_width(p: _Para, s: int, b: int) -> tuple[float, int]:
    """Natural width of glyphs [s, b) without a trailing space, and the index after the last kept glyph."""
    e = b
    if e > s and p.kind[e - 1] == SPACE:
        e -= 1
    w = p.cum[e] - p.cum[s] - p.gap[s]
    if p.brk[b] == HYPHEN_POINT and b < p.n:
        w += _hyphen_width(p, e)
    return w, e


def _ink_past(p: _Para, e: int) -> float:
    """How far (pt) the ink of the Latin glyph before ``e`` reaches past its advance (0 for other glyphs)."""
    if e <= 0 or p.kind[e - 1] != LATIN:
        return 0.0
    return overhang(p.face[e - 1], p.ch[e - 1][-1]) * p.size[e - 1]


def _hyphen_width(p: _Para, e: int) -> float:
    return p.face[e - 1].advance("-") * p.size[e - 1]


def _choose_break(p: _Para, s: int, W: float, hang: bool) -> tuple[int, bool]:
    """Where the line starting at glyph s ends: returns (break index, hangs)."""
    n, cum, gap, brk, ch = p.n, p.cum, p.gap, p.brk, p.ch
    base = cum[s] + gap[s]
    k = s + 1
    while k <= n and cum[k] - base <= W + EPS:
        k += 1
    fit = k - 1                                     # glyphs [s, fit) fit at natural width
    if fit == n:
        return n, False
    if p.words and p.kind[fit] == LATIN:
        # the line ends in a Latin cluster: split its words into characters, so that what follows sees
        # exactly the glyphs a character-by-character breaker would (hyphenation, push-in, last resorts)
        i = fit
        while i > 0 and p.kind[i - 1] == LATIN:
            i -= 1
        j = fit + 1
        while j < p.n and p.kind[j] == LATIN:
            j += 1
        if _explode_range(p, i, j) != j:
            n = p.n
            k = s + 1
            while k <= n and cum[k] - base <= W + EPS:
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
            if c - base > W + EPS:
                break
            q += 1
        if q:
            _split(p, fit, q)
            fit += 1
            n = p.n
    if fit > s and brk[fit] == BREAK:
        return fit, False
    _hyphenate_at(p, fit)
    if hang and fit > s and ch[fit] in HANGABLE and (fit + 1 == n or brk[fit + 1] in (BREAK, HYPHEN_POINT)):
        return fit + 1, True
    # push in: the nearest allowed break after the natural end whose line fits once punctuation is squeezed
    b = fit + 1
    while b <= n:
        if p.nst[b - 1]:                            # a Han run to push in: one character at a time
            _explode(p, b - 1)
            n = p.n
        w, e = _line_width(p, s, b)
        if w - _shrinkable(p, s, e) + _ink_past(p, e) > W + EPS:
            break
        if brk[b] in (BREAK, HYPHEN_POINT):
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
        if brk[b0] in (BREAK, HYPHEN_POINT) and _line_width(p, s, b0)[0] <= W + EPS:
            if _too_loose(p, s, b0, W) or _unfittable_after(p, b0, W):
                # a long URL (or similar) follows: break inside it here rather than leave this line
                # letterspaced or half empty
                for b in range(fit, b0, -1):
                    if brk[b] == EMERGENCY and _line_width(p, s, b)[0] <= W + EPS:
                        return b, False
            return b0, False
    if p.words:                                     # last resorts may fall inside any word of the line
        fit = _explode_range(p, s, fit)
    for level in ((EMERGENCY,), (ANYWHERE,)):
        for b in range(fit, s, -1):
            if brk[b] in level and _line_width(p, s, b)[0] <= W + EPS:
                return b, False
    return max(fit, s + 1), False                   # a single glyph wider than the measure


def _shrinkable(p: _Para, s: int, e: int) -> float:
    """How much the line [s, e) can shrink.  On a character grid only the marks at the line end may be
    squeezed (the pushed-in mark shares the last cell), so every other character stays on the grid."""
    if p.grid is None:
        return p.scum[e] - p.scum[s] - p.gsq[s]        # the space before the line's first glyph is not in it
    i = e
    while i > s and p.kind[i - 1] == PUNCT:
        i -= 1
    return p.scum[e] - p.scum[i]


def _unfittable_after(p: _Para, b0: int, W: float) -> bool:
    """Whether the unbreakable stretch after break b0 is too wide for a line of its own."""
    n, brk = p.n, p.brk
    t = b0
    while t < n and p.kind[t] == SPACE:
        t += 1
    nb = t + 1
    while True:
        if nb <= p.n and p.nst[nb - 1]:             # a Han run may break after its first character
            _explode(p, nb - 1)
        if nb >= p.n or brk[nb] in (BREAK, HYPHEN_POINT):
            break
        nb += 1
    w, e = _line_width(p, t, nb)
    return w - _shrinkable(p, t, e) > W + EPS


def _too_loose(p: _Para, s: int, b: int, W: float) -> bool:
    """A line that could only be justified by letter-spacing a word (a lone word before a long URL)."""
    w, e = _line_width(p, s, b)
    return w < W - EPS and not any(p.stre[s + 1:e]) and not any(p.nst[s:e])


def break_lines(runs: Sequence[Run], width: float, fmt: ParaFormat, *,
                first_width: float | None = None, reference: bool = False) -> list[Line]:
    """Break a paragraph into lines of ``width`` pt (the first line ``first_width`` if given).

    Returns [] for a paragraph with no visible characters; each explicit newline ends a line that is not
    justified, and an empty segment between two newlines gives an empty line.  ``reference`` sets the
    same lines the slow way — every glyph its own record, no English fast path — for tests to compare
    the fast paths against."""
    runs = [r for r in runs if r.text]
    if fmt.balance and not reference:
        got = _balanced(runs, width, first_width, fmt)
        if got is not None:
            return got
    if len(runs) == 1 and not fmt.grid_pitch and not fmt.tracking:
        line = _one_word(runs[0], width if first_width is None else first_width, fmt)
        if line is not None:
            return [line]
        if not reference and fmt.lang == "en" and not fmt.grid_pitch and not fmt.tracking:
            # first fit on whole words, and where its lines are not acceptable total fit on whole words too
            refit = _refit(fmt, runs[0].style.size) if _total_fit_applies(fmt, len(runs[0].text)) else None
            fast = latin_lines(runs[0], width, fmt, first_width, refit)
            if fast is not None:
                return fast
    # word and Han-run records pay where lines hold many of them; in narrow columns nearly every line end
    # splits one, and characters are cheaper (same result either way)
    words = (not reference and not fmt.grid_pitch and not fmt.tracking
             and min(width, first_width or width) >= _RECORDS_MIN_EM * max((r.style.size for r in runs), default=1))
    segs = _segments(runs, fmt.lang, words=words)
    if not any(seg.n for seg in segs):
        return []
    lines: list[Line] = []
    first = True
    fresh = None                                    # the segments again, for total fit
    for si, seg in enumerate(segs):
        final_seg = si == len(segs) - 1
        if not seg.n:
            if not final_seg or lines:
                lines.append(_empty_line(runs, final_seg))
            first = False
            continue
        p = _build(seg, fmt)
        w1 = (first_width if (first and first_width is not None) else width) - (fmt.first_indent if first else 0.0)
        ind = fmt.first_indent if first else 0.0
        got = _first_fit(p, fmt, w1, width, ind, final_seg)
        if not got:                                 # a segment of spaces only
            if not final_seg or lines:
                lines.append(_empty_line(runs, final_seg))
            first = False
            continue
        if _total_fit_applies(fmt, p.n) and not _acceptable(got, fmt, p.size):
            if p.words:
                # first fit has split and marked p: total fit starts from the segment's records afresh
                if fresh is None:
                    fresh = _segments(runs, fmt.lang)
                q = _build(fresh[si], fmt)
            else:
                q = p
            better = _total_fit(q, fmt, w1, width, ind, final_seg)
            if better is not None:
                got = better
        lines += got
        first = False
    return lines


def _balanced(runs: list[Run], width: float, first_width: float | None, fmt: ParaFormat) -> list[Line] | None:
    """Display text (``fmt.balance``) that needs more than one line, broken into balanced lines at word
    boundaries by typeset/titles.py, each line then set on its own; None when it fits on one line (or holds
    inline code, which is kept as it is)."""
    from .titles import balance

    text = "".join(r.text for r in runs)
    if any(r.style.mono for r in runs) or not text.strip():
        return None
    measure = min(width, first_width or width) - fmt.first_indent
    st = runs[0].style
    lang = fmt.lang

    def width_of(s: str) -> float:
        w, prev = 0.0, None
        for c in s:
            f = st.fonts.face_for(c, st.bold, st.italic, False, lang)
            if f is not None:
                w += f.advance(c) * st.size
            k = kind_of(c, lang)
            if prev is not None and {prev, k} == {CJK, LATIN}:
                w += 0.25 * st.size                 # the CJK–Latin space
            prev = k
        return w

    if width_of(text) <= measure - 0.01:
        return None
    parts = balance(text, measure * 0.98, width_of)    # a little room for what width_of does not see
    if len(parts) < 2:
        return None
    # the same runs with a forced break where each balanced line ends (spaces there become the break)
    starts, pos = [], 0
    for part in parts:
        at = text.find(part, pos)
        if at < 0:
            return None
        starts.append(at)
        pos = at + len(part)
    gaps = [(starts[i] + len(parts[i]), starts[i + 1]) for i in range(len(parts) - 1)]
    out: list[Run] = []
    i = 0
    for r in runs:
        buf = []
        for c in r.text:
            if any(i == a for a, _ in gaps):
                buf.append("\n")
            if not any(a <= i < b for a, b in gaps):
                buf.append(c)
            i += 1
        out.append(Run("".join(buf), r.style))
    return break_lines(out, width, replace(fmt, balance=False), first_width=first_width)


def _first_fit(p: _Para, fmt: ParaFormat, w1: float, width: float, ind: float, final_seg: bool) -> list[Line]:
    """The segment broken greedily: each line as full as the CLREQ rules allow (push in, pull out)."""
    lines = []
    s = 0
    first = True
    while s < p.n:
        W = w1 if first else width
        indent = ind if first else 0.0
        if fmt.grid_pitch:
            W = math.floor(W / fmt.grid_pitch + 1e-6) * fmt.grid_pitch
        b, hangs = _choose_break(p, s, W, fmt.hang_punct)
        if _line_width(p, s, b)[1] <= s:        # nothing but spaces before the break: no line of them
            s = b
            while s < p.n and p.kind[s] == SPACE:
                s += 1
            continue
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
        while s < p.n and p.kind[s] == SPACE:
            s += 1
    return lines


# ------------------------------------------------------------------------------------------------ total fit
# A first-fit paragraph is kept when every line is within these bounds (TeX's first pass, \pretolerance);
# otherwise the segment is broken by total fit (Knuth & Plass 1981) over the breaks CLREQ allows.
_PRE_HAN = 0.12                # em: extra space between Han characters a first-fit line may have
_PRE_SPACE = 0.3               # em: extra word space
_PRE_GAP = 0.6                 # em: space between two pieces (a stretched CJK–Latin gap)
_UNIT = {"zh": 0.15, "en": 0.2}    # em of extra space per boundary at which a line's badness is 100
_LETTER_UNIT = 0.05                # the same for letterspacing a line with no other stretch (em a glyph)
_WINDOW = {"zh": 3.0, "en": 5.0}   # em: looser line ends than this are not considered (but the last one)
_PEN_HYPHEN, _PEN_EMERGENCY, _DEM_HYPHENS, _DEM_ORPHAN = 50.0, 250.0, 10000.0, 1e6
_TOTAL_FIT_MAX = 20000         # glyphs: longer segments (pathological input) stay first-fit


def _total_fit_applies(fmt: ParaFormat, n: int) -> bool:
    # a character grid and hanging punctuation keep their own first-fit rules
    return fmt.align == "justify" and not fmt.grid_pitch and not fmt.hang_punct and n <= _TOTAL_FIT_MAX


def _refit(fmt: ParaFormat, size: float) -> Refit:
    """Total fit's terms for the English fast path (typeset/latin.py), which finds it on whole words."""
    return Refit(lambda lines: _acceptable(lines, fmt, (size,)), _UNIT["en"], _WINDOW["en"], _PEN_HYPHEN ** 2,
                 _DEM_HYPHENS)


def _orphan(text: str) -> bool:
    """A last line of one Han character (孤字), punctuation aside."""
    han = [c for c in text if not (c.isspace() or c in NO_START or c in NO_END or c in NO_STRETCH_PAIRS)]
    return len(han) == 1 and han[0] >= "\u2e80"


def _acceptable(lines: list[Line], fmt: ParaFormat, sizes) -> bool:
    """Whether first fit's lines pass: none looser than the _PRE_ bounds, no two hyphens in a row, no 孤字."""
    em = max(sizes)
    prev_hy = False
    for ln in lines[:-1]:
        if prev_hy and ln.hyphen is not None:
            return False
        prev_hy = ln.hyphen is not None
        prev = None
        for pc in ln.pieces:
            if pc.char_space > _PRE_HAN * em or pc.word_space > _PRE_SPACE * em:
                return False
            if prev is not None and pc.x - prev.x - prev.width > _PRE_GAP * em:
                return False
            prev = pc
    return not (len(lines) > 1 and _orphan("".join(pc.text for pc in lines[-1].pieces)))


def _open_for_total_fit(p: _Para) -> None:
    """Explode, in place, the records of a word-record segment (see :func:`_segments`) inside which total fit
    may break: every Han run (a break may fall between any two of its characters), and every run of Latin
    records holding a word long enough to be hyphenated (``hyphenatable``: six letters or more, which a word
    record then holds whole), so that its dictionary points can be marked glyph by glyph.  The other words
    stay one record each: nothing breaks inside them, and the lines total fit finds are the ones it finds
    glyph by glyph, for a fraction of the records."""
    runs = []
    for i, j in _latin_words(p):
        if p.hyph is not None and any(len(c) >= 6 for c in p.ch[i:j]):
            runs.append((i, j))
    han = [k for k in range(p.n) if p.kind[k] == CJK and len(p.ch[k]) > 1]
    # from the end backwards, so that the positions still to do stay where they were
    for k in sorted(han + [k for i, j in runs for k in range(i, j)], reverse=True):
        _explode(p, k)


def _total_fit(p: _Para, fmt: ParaFormat, w1: float, width: float, ind: float, final_seg: bool):
    """The segment (glyph by glyph, or word records opened where a break may fall inside them: see
    :func:`_open_for_total_fit`) broken where the sum of the lines' demerits is least: badness from the
    extra space per stretchable boundary (or the share of squeezable punctuation used), penalties for
    hyphens, address breaks, two hyphens in a row and a 孤字 on the last line.  None when no way through
    keeps every line within the measure (first fit's last resorts then stand)."""
    if p.words:
        _open_for_total_fit(p)
    n, kind, cum, gap, scum, brk, gsq = p.n, p.kind, p.cum, p.gap, p.scum, p.brk, p.gsq
    if p.hyph is not None:
        for i, j in list(_latin_words(p)):
            if i not in p.hyph:
                p.hyph.add(i)
                if not p.words or all(len(c) == 1 for c in p.ch[i:j]):
                    _mark_word(p, brk, i, j)
    em = max(p.size)
    unit = _UNIT.get(fmt.lang, 0.15) * em
    window = _WINDOW.get(fmt.lang, 3.0) * em
    cst = list(accumulate(p.stre, initial=0))
    sqR = p.sqR
    compress = fmt.compress_end and fmt.align == "justify" and not fmt.grid_pitch
    cands = [b for b in range(1, n) if brk[b] in (BREAK, HYPHEN_POINT, EMERGENCY)]
    cands.append(n)
    best = {0: (0.0, -1, False)}
    from bisect import bisect_left
    for a in [0] + cands[:-1]:
        got = best.get(a)
        if got is None:
            continue
        d0, _, hy0 = got
        s = a
        while s < n and kind[s] == SPACE:
            s += 1
        if s >= n:
            continue
        W = w1 if a == 0 else width
        base = cum[s] + gap[s]
        gap_s, scum_s = gap[s], scum[s] + gsq[s]
        # the first candidate whose natural line is within the window, and the one before it
        k = bisect_left(cum, base + W - window, s + 1)
        ci = max(bisect_left(cands, k) - 1, bisect_left(cands, s + 1))
        while ci < len(cands):
            b = cands[ci]
            ci += 1
            # _line_width and _end_blank, inlined (this loop is most of total fit's time)
            e = b - 1 if kind[b - 1] == SPACE and b > s else b
            w = cum[e] - cum[s] - gap_s
            kb = brk[b]
            if kb == HYPHEN_POINT and b < n:
                w += _hyphen_width(p, e)
            shrink = scum[e] - scum_s
            if w - shrink > W + EPS or (kind[e - 1] == LATIN and w - shrink + _ink_past(p, e) > W + EPS):
                break
            last = b >= n
            end = sqR[e - 1] if compress and not last and e > s and kind[e - 1] == PUNCT else 0.0
            slack = W - w + end
            if slack < -EPS:
                bad = 100.0 * (-slack / (shrink - end)) ** 3
            elif last:
                bad = 0.0
            else:
                count = cst[e] - cst[s + 1]
                if count:
                    bad = 100.0 * (slack / count / unit) ** 3
                else:
                    # a lone word or address: letterspaced by _set_line up to 0.1 em a glyph, beyond that ragged
                    m = e - s - 1
                    per = slack / m if m else slack
                    bad = 0.0 if slack < 0.05 * em else (100.0 * (per / _LETTER_UNIT / em) ** 3
                                                         if m and per <= min(0.1 * em, 2.0) else 1e5)
            dem = (10.0 + bad) ** 2
            hy = False
            if not last:
                if kb == HYPHEN_POINT:
                    hy = True
                    dem += _PEN_HYPHEN ** 2 + (_DEM_HYPHENS if hy0 else 0.0)
                elif kb == EMERGENCY:
                    dem += _PEN_EMERGENCY ** 2
            elif a and _orphan("".join(p.ch[s:e])):
                dem += _DEM_ORPHAN
            tot = d0 + dem
            old = best.get(b)
            if old is None or tot < old[0] - 1e-9:
                best[b] = (tot, a, hy)
    if n not in best:
        return None
    ends = []
    b = n
    while b > 0:
        ends.append(b)
        b = best[b][1]
    ends.reverse()
    lines = []
    a = 0
    shift = 0                                       # records added by exploding a line's words (below)
    for b in ends:
        last_here = b >= n
        b += shift
        s = a
        while s < p.n and kind[s] == SPACE:
            s += 1
        W = w1 if a == 0 else width
        ind_here = ind if a == 0 else 0.0
        line = _set_line(p, s, b, W, ind_here, fmt, last=last_here and final_seg, stretch=not last_here,
                         hangs=False)
        if line is None:                            # a line to letterspace: set it by characters
            nb = _explode_range(p, s, b)
            shift += nb - b
            b = nb
            line = _set_line(p, s, b, W, ind_here, fmt, last=last_here and final_seg, stretch=not last_here,
                             hangs=False)
        lines.append(line)
        a = b
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
    st, info = char_info(run.style, fmt.lang)
    face = None
    w = 0.0
    for ch in text:
        t = info.get(ch)
        if t is None:
            t = info[ch] = describe(st, ch, fmt.lang)
        if face is None:
            face = t[2]
        elif t[2] is not face:
            return None
        w += t[5]
    W = width - fmt.first_indent
    if w > W + EPS:
        return None
    x0 = fmt.first_indent
    if fmt.align == "center":
        x0 += max(W - w, 0) / 2
    elif fmt.align == "right":
        x0 += max(W - w, 0)
    size = st.size
    pc = Piece(x0, text, face, size, color=st.color, href=st.href, underline=st.underline, width=w)
    return Line([pc], x0 + w, face.ascent * size, face.descent * size, True)


def _empty_line(runs, last) -> Line:
    st = runs[0].style
    fam = (st.fonts.cjk or st.fonts.latin)[0]
    f = fam.regular
    return Line([], 0.0, f.ascent * st.size, f.descent * st.size, last)


# ------------------------------------------------------------------------------------------------ setting

def _set_line(p: _Para, s: int, b: int, W: float, indent: float, fmt: ParaFormat, *,
              last: bool, stretch: bool, hangs: bool) -> Line | None:
    gap = p.gap
    if hangs:
        e_main = b - 1                              # the hanging mark sits outside the measure
        nat_w, _ = _line_width(p, s, e_main)
        e = b
    else:
        nat_w, e = _line_width(p, s, b)
        e_main = e
    hyphen = p.brk[b] == HYPHEN_POINT and b < p.n
    end = _end_blank(p, s, e_main, fmt) if stretch and not hangs else 0.0
    slack = W - nat_w + end
    if stretch and not hyphen and not hangs and fmt.align == "justify" and p.kind[e_main - 1] == LATIN:
        slack -= _ink_past(p, e_main)
    # shrink: squeeze punctuation (and word spaces) toward half width, from the line end backwards —
    # line-end marks first, as CLREQ prefers, and on a character grid as few characters leave the grid
    squeeze = {e_main - 1: end} if end else None
    gsqz = None
    if slack < -EPS:
        need = -slack
        squeeze = squeeze or {}
        sqL, sqR = p.sqL, p.sqR
        kind = p.kind
        for i in range(e_main - 1, s - 1, -1):
            if need <= EPS:
                break
            take = sqL[i] + sqR[i] - squeeze.get(i, 0.0)
            if take > 0 and kind[i] != SPACE:
                take = min(need, take)
                squeeze[i] = squeeze.get(i, 0.0) + take
                need -= take
        if need > EPS:                             # CJK–Latin spaces toward ⅛ em: evenly
            gs = [i for i in range(s + 1, e_main) if p.gsq[i] > 0]
            avail = sum(p.gsq[i] for i in gs)
            if avail > 0:
                f = min(1.0, need / avail)
                gsqz = {i: f * p.gsq[i] for i in gs}
                need -= f * avail
                slack += f * avail
        if need > EPS:                             # word spaces: evenly
            spaces = [i for i in range(s, e_main) if kind[i] == SPACE]
            avail = sum(sqR[i] for i in spaces)
            if avail > 0:
                f = min(1.0, need / avail)
                for i in spaces:
                    squeeze[i] = f * sqR[i]
        slack += sum(squeeze.values()) - end
    # stretch: equal extra space at every CJK inter-character boundary, CJK–Latin gap and word space
    stre = p.stre
    per = 0.0
    every = False
    spread: dict[int, float] | None = None
    if slack > EPS and stretch and fmt.align == "justify" and not fmt.grid_pitch:
        count = sum(stre[s + 1:e_main]) + sum(p.nst[s:e_main])   # Han runs: their inner boundaries
        if count:
            per = slack / count
            em = max(p.size[s:e_main])
            if per > _LOOSE * em and fmt.lang == "zh":
                # a few Han characters before (or after) an address that could not break: rather than spread
                # them apart, letterspace the address a little too
                if p.words and any(len(c) > 1 for c in p.ch[s:e_main]):
                    return None                     # letterspacing needs characters: the caller explodes
                at = _spreadable(p, s, e_main)
                if at:
                    ls = min(_SPREAD_MAX * em, (slack - _LOOSE * em * count) / len(at))
                    slack -= ls * len(at)
                    per = slack / count
                    spread = dict.fromkeys(at, ls)
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
    if off is not None and p.grid and indent <= EPS and trimL[s] < 0 and p.kind[s] == LATIN:
        # a padded number or word at a line's left edge sits flush left in its cells (顶格, 回行顶格)
        off = list(off)
        lead = -trimL[s]
        k = s
        while k < e and p.kind[k] == LATIN:
            off[k - s] += lead
            k += 1
    nst = p.nst
    fx, fx0 = fadv, 0                               # extent of each record: a Han run's spacing inside it
    if per and not every and p.words:
        ns = nst[s:e]
        if any(ns):
            w = [a + per * k for a, k in zip(w, ns)]
            fx, fx0 = [a + per * k for a, k in zip(fadv[s:e], ns)], s
    gl = gap[s + 1:e]
    if gsqz:
        for i, q in gsqz.items():
            gl[i - s - 1] -= q
    if spread:
        for i, q in spread.items():
            gl[i - s - 1] += q
    if per and every:
        steps = [g + per + a for g, a in zip(gl, w)]
    elif per:
        steps = [g + per + a if t else g + a for g, t, a in zip(gl, stre[s + 1:e], w)]
    else:
        steps = [g + a for g, a in zip(gl, w)]
    xs = list(accumulate(steps, initial=x0))
    dx = [x - o for x, o in zip(xs, off)] if off else xs
    end_x = xs[e_main - 1 - s] + w[e_main - 1 - s] if e_main > s else x0   # a hanging mark does not count
    # group them into pieces: a piece continues while face and look match and the spacing after each glyph
    # is one constant Tc (plus one constant Tw after spaces); Tc would also space the letters inside a word
    chs, faces, styles, spaced = p.ch, p.face, p.style, p.spaced
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
            # positional: (x, text, face, size, char_space, color, href, underline, width, rise, word_space,
            # spaces)
            pieces.append(Piece(x_start, "".join(csl[k0:k]), f, st.size, cs or 0.0, st.color, st.href,
                                st.underline, dx[k - 1] + ext[k - 1] - x_start, 0.0, ws or 0.0,
                                _vanished(spaced, s, k0, k, csl) if spaced else ()))
            k0, f, st = k, f2, st2
            req = cs = (per if nk else 0.0) if len(c) > 1 else None
            ws = None
        prev_c = c
    x_start = dx[k0]
    pieces.append(Piece(x_start, "".join(csl[k0:]), f, st.size, cs or 0.0, st.color, st.href, st.underline,
                        dx[-1] + ext[-1] - x_start, 0.0, ws or 0.0,
                        _vanished(spaced, s, k0, len(csl), csl) if spaced else ()))
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


def _vanished(spaced: set[int], s: int, k0: int, k: int, csl: list[str]) -> tuple[int, ...]:
    """Character offsets in the piece of glyph records [s + k0, s + k) (``csl``: the line's records' text)
    before which a space of the text vanished (one before the line's first glyph is the line break's)."""
    return tuple(sum(map(len, csl[k0:g - s])) for g in sorted(spaced) if s + k0 <= g < s + k and g > s)


_LOOSE = 0.25                  # em: Han characters spread further apart than this are a loose line ...
_SPREAD_MAX = 0.05             # em: ... which letterspaces an unbroken address on it by up to this (below a
                               # tenth of an em, where text extraction would read a gap as a space)


def _spreadable(p: _Para, s: int, e: int) -> list[int]:
    """Boundaries inside the unbroken ASCII stretches of [s, e) (URLs, paths, long words) that may take
    letterspacing: between two visible ASCII glyphs of one face, not inline code, no space either side."""
    ch, kind, face, mono, stre = p.ch, p.kind, p.face, p.mono, p.stre
    return [i for i in range(s + 1, e)
            if not stre[i] and kind[i] != SPACE and kind[i - 1] != SPACE and ch[i] < "\x7f" and ch[i - 1] < "\x7f"
            and ch[i] > " " and ch[i - 1] > " " and face[i] is face[i - 1] and not mono[i] and not mono[i - 1]]


def _end_blank(p: _Para, s: int, e: int, fmt: ParaFormat) -> float:
    """The blank half a full-width mark ending the justified line [s, e) gives up (CLREQ 3.1.6: line-end
    marks are set in half width so that the ink meets the edge), or 0."""
    if not fmt.compress_end or fmt.align != "justify" or fmt.grid_pitch or e <= s or p.kind[e - 1] != PUNCT:
        return 0.0
    return p.sqR[e - 1]


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
            # missing before seen: a render on another thread that finds a character seen also finds it
            # missing if it is
            new = set(text) - seen
            missing.update(ch for ch in new if not (ch.isspace() or
                           st.fonts.face_for(ch, st.bold, st.italic, st.mono, lang) is not None))
            seen.update(new)
        if missing and not missing.isdisjoint(text):
            out += [ch for ch in dict.fromkeys(r.text) if ch in missing and ch not in out]
    return out

