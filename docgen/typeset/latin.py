"""The English fast path: one run of plain English prose, a measure and a ParaFormat in, set lines out.

:func:`latin_lines` breaks one style of printable ASCII in one face on whole words, without the general
breaker's per-glyph arrays, and returns exactly the lines typeset/breaker.py would set (same breaks,
hyphens, squeezing and word spacing), or None for anything rarer, which the caller then sets the general
way.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate
from operator import itemgetter
from typing import Callable, NamedTuple

from .text import (ANYWHERE, BREAK, EPS, HYPHEN_POINT, LATIN, NO_BREAK, NO_END, NO_START, Line, ParaFormat,
                   Piece, Run, TextStyle, char_info, compound_parts, describe, hyphen_points, hyphenatable, overhang)

_LATIN_TOKENS: dict = {}                        # style -> word -> (width, face), or None when not one face
_LATIN_TOKENS_MAX = (8, 20000)                  # styles, words per style: ~5 MB a style at most
_UNSEEN = object()
_ADVANCE = itemgetter(5)                        # a glyph record's advance (pt)


class Refit(NamedTuple):
    """What :func:`latin_lines` needs to replace an unacceptable first fit by the total-fit optimum, as the
    general breaker's total fit (typeset/breaker.py) defines it: its acceptance test of first fit's lines
    and its constants (em of the font size; penalties and demerits as there)."""

    accept: Callable[[list], bool]
    unit: float             # em of extra space per word space at which a line's badness is 100
    window: float           # em: looser line ends than this are not considered (but the last one)
    hyphen: float           # demerits of a hyphenated line end
    hyphens: float          # ... added for a second hyphen in a row


def _latin_token(st: TextStyle, info: dict, tok: str):
    """(width, face) of a space-free ASCII word (punctuation included) set in one face, widths summed character by character as
    the general breaker sums them; None when its characters need more than one face."""
    face = None
    w = 0.0
    for ch in tok:
        t = info.get(ch)
        if t is None:
            t = info[ch] = describe(st, ch, "en")
        if face is None:
            face = t[2]
        elif t[2] is not face or t[3] != LATIN:
            return None
        w += t[5]
    return w, face


def latin_lines(run: Run, width: float, fmt: ParaFormat, first_width: float | None,
                refit: Refit | None = None) -> list[Line] | None:
    """English prose — one style, printable ASCII, one face, no URL — broken on whole words.

    The lines are the ones the general breaker sets (same breaks, hyphens, squeezing and word spacing; a
    test compares every glyph), found without per-glyph arrays: the natural line end is located on word
    widths and only the word it falls in is looked at character by character, with the general breaker's
    rules (push in by squeezing word spaces to 4/5, dictionary hyphenation of that word, pull out to the
    last allowed break).  Returns None — the caller takes the general path — for anything rarer: a word
    wider than the line, a lone word that would need letterspacing, a slash, an at sign or an underscore (an address or
    identifier the general breaker may break inside), hanging punctuation.

    With ``refit``, first fit's lines that ``refit.accept`` rejects are replaced by the general breaker's
    total fit, found here on whole words (the same candidate breaks, badness and demerits); None — the
    general path — where a candidate line would be a lone word to letterspace, whose badness the general
    breaker reckons per glyph record."""
    text = run.text
    if fmt.hang_punct or "/" in text or "@" in text or "_" in text or not text.isascii() or not text.isprintable():
        return None
    st, info = char_info(run.style, "en")
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
            recs = list(map(info.get, toks[j]))
            if None in recs:
                recs = [r or describe(st, c, "en") for r, c in zip(recs, toks[j])]
            got = prefix[j] = list(accumulate(map(_ADVANCE, recs), initial=0.0))
        return got

    # A glyph position is (word j, offset q): q < len(word) a character, q == len(word) the space after it
    # (after the last word: the paragraph's end).  Positions order as tuples do.
    end = (m - 1, L[m - 1])

    def cum(j, q):                                  # natural width of the glyphs before (j, q)
        return CT[j] + (tw[j] if q == L[j] else pre(j)[q])

    def inner_brk(t, q):                            # inside a word, 0 < q < len(t)
        a, b = t[q - 1], t[q]
        if a == "-" and b.isalnum() and q >= 2 and t[q - 2].isalnum():
            return BREAK                              # after the hyphen of a compound
        return ANYWHERE if (a not in NO_END and b not in NO_START) else NO_BREAK

    def brk(j, q):                                  # the break kind before (j, q)
        if q == L[j]:
            return BREAK if j == m - 1 else NO_BREAK       # the paragraph's end; before a space
        t = toks[j]
        if q == 0:
            if j == 0:
                return NO_BREAK
            return NO_BREAK if (t[0] in NO_START or toks[j - 1][-1] in NO_END) else BREAK
        r = inner_brk(t, q)
        if r == ANYWHERE and j in marks and q in marks[j]:
            return HYPHEN_POINT
        return r

    def width_to(base, j, q):
        """_line_width from the glyph whose cum is ``base`` to a break before (j, q) > start: (width, the
        position after the last kept glyph, the break kind)."""
        r = brk(j, q)
        if q == 0:                                  # the glyph before is a space: not kept
            j -= 1
            q = L[j]
        w = cum(j, q) - base
        if r == HYPHEN_POINT:
            w += hyw
        return w, j, q, r

    def hyphenate_at(j, q):                         # the dictionary's points of the word a line end falls in
        if not hyph or q == 0 or q == L[j] or j in marks:
            return
        mark(j)

    def mark(j):
        got = marks[j] = set()
        t = toks[j]
        a, b = 0, L[j]
        while a < b and not t[a].isalpha():
            a += 1
        while b > a and not t[b - 1].isalpha():
            b -= 1
        for start, part in compound_parts(t[a:b], a):
            if hyphenatable(part):
                for off in hyphen_points(part):
                    if inner_brk(t, start + off) == ANYWHERE:
                        got.add(start + off)

    def choose(js, qs, W):
        base = cum(js, qs)
        lim = W + EPS
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
        if brk(fj, fq) == BREAK:
            return fj, fq
        hyphenate_at(fj, fq)
        # push in (squeezing word spaces to 4/5): the nearest allowed break after the natural end
        j, q = (fj, fq + 1) if fq < L[fj] else (fj + 1, 0)
        while j < m:
            w, ej, eq, r = width_to(base, j, q)
            if w - (ej - js) * sq + overhang(face, toks[ej][eq - 1] if eq else toks[ej - 1][-1]) * size > lim:
                break
            if r == BREAK or r == HYPHEN_POINT:
                return j, q
            if q < L[j]:
                q += 1
            else:
                j, q = j + 1, 0
        # pull out: the last allowed break before it
        j, q = fj, fq
        while (j, q) > (js, qs):
            w, _, _, r = width_to(base, j, q)
            if (r == BREAK or r == HYPHEN_POINT) and w <= lim:
                return j, q
            if q:
                q -= 1
            else:
                j, q = j - 1, L[j - 1]
        return None

    def set_line(js, qs, bj, bq, W, indent, last):
        base = cum(js, qs)
        nat_w, je, qe, r = width_to(base, bj, bq)
        hyphen = r == HYPHEN_POINT
        k = je - js                                 # word spaces on the line
        slack = W - nat_w
        if not last and not hyphen and fmt.align == "justify":
            slack -= overhang(face, toks[je][qe - 1] if qe else toks[je - 1][-1]) * size
        sqz = 0.0
        if slack < -EPS and k:
            sqz = min(1.0, -slack / (k * sq)) * sq
            slack += k * sqz
        per = 0.0
        if slack > EPS and not last and fmt.align == "justify":
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
    if refit is None or refit.accept(lines):
        return lines

    # total fit on whole words: the candidate breaks are the word starts and, inside words, compound hyphens
    # and the dictionary's points; per candidate its glyph position, the width to the last glyph the line
    # keeps, the word spaces before that glyph and the ink past it
    if hyph:
        for j in range(m):
            if j not in marks:
                mark(j)
    cands = []                                      # (j, q, kind, position, width to it, spaces, ink)
    ov: dict = {}

    def ink(c):
        o = ov.get(c)
        if o is None:
            o = ov[c] = overhang(face, c) * size
        return o

    for j in range(m):
        t = toks[j]
        if j and not (t[0] in NO_START or toks[j - 1][-1] in NO_END):
            cands.append((j, 0, BREAK, CT[j], E[j - 1], j - 1, ink(toks[j - 1][-1])))
        got = marks.get(j)
        if got or "-" in t:
            pj = pre(j)
            for q in range(1, L[j]):
                r = inner_brk(t, q)
                if r == BREAK:
                    cands.append((j, q, BREAK, CT[j] + pj[q], CT[j] + pj[q], j, ink(t[q - 1])))
                elif r == ANYWHERE and got and q in got:
                    cands.append((j, q, HYPHEN_POINT, CT[j] + pj[q], CT[j] + pj[q] + hyw, j, ink(t[q - 1])))
    cands.append((m - 1, L[m - 1], BREAK, E[m - 1], E[m - 1], m - 1, ink(toks[m - 1][-1])))
    cj, cq, ck, cp, ce, cs, co = map(list, zip(*cands))
    nc = len(cj)
    unit, window = refit.unit * size, refit.window * size
    inf = float("inf")
    best = [inf] * nc
    prev = [-1] * nc
    hyl = [False] * nc
    w1 = (width if first_width is None else first_width) - fmt.first_indent
    for a in range(-1, nc - 1):
        if a < 0:
            d0, hy0, base, sj, W, lo = 0.0, False, 0.0, 0, w1, 0
        else:
            d0 = best[a]
            if d0 == inf:
                continue
            hy0, base, sj, W, lo = hyl[a], cp[a], cj[a], width, a + 1
        lim = W + EPS
        ci = max(bisect_left(cp, base + W - window) - 1, lo)
        while ci < nc:
            b = ci
            ci += 1
            w = ce[b] - base
            k = cs[b] - sj
            shrink = k * sq
            if w - shrink + co[b] > lim:
                break
            slack = W - w
            last = ci == nc
            if slack < -EPS:
                bad = 100.0 * (-slack / shrink) ** 3
            elif last:
                bad = 0.0
            elif k:
                bad = 100.0 * (slack / k / unit) ** 3
            elif slack < 0.05 * size:
                bad = 0.0
            else:
                return None                         # a lone word to letterspace: the general breaker
            dem = (10.0 + bad) ** 2
            hy = not last and ck[b] == HYPHEN_POINT
            if hy:
                dem += refit.hyphen + (refit.hyphens if hy0 else 0.0)
            tot = d0 + dem
            if tot < best[b] - 1e-9:
                best[b], prev[b], hyl[b] = tot, a, hy
    if best[-1] == inf:
        return lines                                # no way through: first fit stands
    ends = []
    b = nc - 1
    while b >= 0:
        ends.append(b)
        b = prev[b]
    out: list[Line] = []
    j, q = 0, 0
    for b in reversed(ends):
        first = not out
        indent = fmt.first_indent if first else 0.0
        W = (first_width if (first and first_width is not None) else width) - indent
        line = set_line(j, q, cj[b], cq[b], W, indent, b == nc - 1)
        if line is None:
            return None
        out.append(line)
        j, q = cj[b], cq[b]
    return out
