"""Balanced display lines at word boundaries: a title's text, a measure and a width function in, lines out.

A title that needs more than one line is broken into the fewest lines that fit, of similar length, at
word boundaries only (GB/T 9704-2012 7.3.1: 回行时要做到词意完整，排列对称，长短适宜): never inside a word
(jieba's dictionary, loaded on the first title that wraps), a number with its unit (``2026年``,
``12.5平方千米``) or a 《》 name that fits on a line, and never against the CLREQ line-start and line-end
prohibitions.  The lines form a 梯形 (each longer, or each shorter, than the one before) or a 菱形 (longest in
the middle), never a 沙漏 (a short line between longer ones); a rectangle of equal lines only when no other
shape fits.  The same function serves covers and posters: it knows nothing of fonts or pages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from itertools import combinations

from .text import NO_END, NO_START

_EPS = 1e-6
_COMBOS = 60_000  # more cuts than this to try: a dynamic programme instead
# a number with its unit or measure word stays on one line
_NUM_UNIT = re.compile(
    r"[0-9０-９]+(?:[.．][0-9０-９]+)?(?:%|％|‰|年度|年|月|日|号|个|项|家|万|亿|元|平方千米|平方公里|千米|公里|米|吨|人|次|届|期|批|条|"
    r"部|所|台|岁|周年|小时|天|倍|件|份|名|只|公顷|亩)?"
)


def _is_han(c: str) -> bool:
    # (not a regular expression: a class over these blocks takes ~3 ms to compile, in every process)
    return "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" or "\uf900" <= c <= "\ufaff"


def _han_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of every run of two or more Han characters."""
    runs, start = [], None
    for i, c in enumerate(text):
        if _is_han(c):
            if start is None:
                start = i
        elif start is not None:
            if i - start > 1:
                runs.append((start, i))
            start = None
    if start is not None and len(text) - start > 1:
        runs.append((start, len(text)))
    return runs


_NAME = re.compile(r"《[^《》]*》|“[^“”]*”")
# a line should not end on a function word, nor start on a one-character suffix of a name (青川|市)
_END_WEAK = set("的和与及或之并对在把被将从向为")
_SUFFIX = set("市省县区镇乡村局委厅部处办署院会室站所队")
_DOC_KINDS = re.compile(
    r"的?(通知|请示|函|复函|批复|意见|报告|决定|通报|公告|通告|决议|纪要|命令|议案|公报|方案|办法|规定)$"
)
_jieba = None


def _segmenter():
    """jieba, imported the first time a title wraps (its dictionary takes about 0.7 s to load); None when it
    is not installed — then only numbers with units, names and CLREQ are protected."""
    global _jieba
    if _jieba is None:
        try:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            _jieba = jieba
        except ImportError:  # pragma: no cover - jieba is a dependency
            _jieba = False
    return _jieba or None


def words(text: str) -> list[tuple[int, int]]:
    """(start, end) of every stretch of ``text`` a line break must not fall inside: dictionary words of two
    or more characters, numbers with their units, Latin words."""
    spans = [(m.start(), m.end()) for m in _NUM_UNIT.finditer(text) if m.end() - m.start() > 1]
    spans += [(m.start(), m.end()) for m in re.finditer(r"[A-Za-z0-9][A-Za-z0-9.\-]*", text)]
    runs = _han_runs(text)
    jb = _segmenter() if runs else None  # no Han words to find: jieba is not loaded (0.5 s)
    if jb is not None:
        for start, end in runs:
            i = start
            for w in jb.cut(text[start:end], HMM=False):
                if len(w) > 1:
                    spans.append((i, i + len(w)))
                i += len(w)
    return spans


def _costs(text: str, measure: float, width: Callable[[str], float]) -> list[list[float | None]]:
    """For each break position 1..n-1, its cost in three tiers: at word boundaries with names whole; names
    may break; anything CLREQ allows.  None: not allowed in that tier."""
    n = len(text)
    inside_word = [False] * (n + 1)
    for s, e in words(text):
        for i in range(s + 1, e):
            inside_word[i] = True
    inside_name = [False] * (n + 1)
    for m in _NAME.finditer(text):
        if width(m.group()) <= measure + _EPS:  # a name longer than a line has to break somewhere
            for i in range(m.start() + 1, m.end()):
                inside_name[i] = True
    one_char = set()  # where a one-character Han word starts
    jb = _segmenter() if any(map(_is_han, text)) else None
    if jb is not None:
        i = 0
        for w in jb.cut(text, HMM=False):
            if len(w) == 1:
                one_char.add(i)
            i += len(w)
    tiers: list[list[float | None]] = [[None] * (n + 1) for _ in range(3)]
    for i in range(1, n):
        a, b = text[i - 1], text[i]
        if (
            b in NO_START
            or a in NO_END
            or a + b in ("——", "……")
            or (a.isascii() and a.isalnum() and b.isascii() and b.isalnum())
        ):
            continue
        cost = 0.0
        if a in _END_WEAK:
            cost += 4.0  # a function word ends the line
        if b in _SUFFIX and i in one_char:
            cost += 6.0  # a name's suffix starts the next line
        if _DOC_KINDS.fullmatch(text[i:]):
            cost -= 2.0  # “……的通知” keeps the 文种 with its 的
        tiers[2][i] = cost + 20.0
        if not inside_word[i]:
            tiers[1][i] = cost + (10.0 if inside_name[i] else 0.0)
            if not inside_name[i]:
                tiers[0][i] = cost
    return tiers


def balance(
    text: str, measure: float, width: Callable[[str], float], *, min_chars: int = 2, max_lines: int = 8
) -> list[str]:
    """``text`` in balanced lines no wider than ``measure`` (``width(s)`` is a string's width in the same unit);
    explicit newlines are kept.  Each line has at least ``min_chars`` characters where the text allows."""
    out: list[str] = []
    for part in text.split("\n"):
        part = part.strip()
        if part:
            out += _balance(part, measure, width, min_chars, max_lines)
    return out


def _balance(s: str, measure: float, width: Callable[[str], float], min_chars: int, max_lines: int) -> list[str]:
    if width(s) <= measure + _EPS:
        return [s]
    n = len(s)
    cache: dict[tuple[int, int], float] = {}

    def w(i: int, j: int) -> float:
        key = (i, j)
        if key not in cache:
            cache[key] = width(s[i:j])
        return cache[key]

    em = max(width("国"), _EPS)
    k_min = max(2, math.ceil(width(s) / measure - _EPS))
    for tier in _costs(s, measure, width):
        cands = [i for i in range(1, n) if tier[i] is not None]
        best: tuple[float, tuple[int, ...]] | None = None
        for k in range(k_min, min(max_lines, n // max(1, min_chars)) + 1):
            if k - 1 > len(cands):
                break
            for bounds in _cuts(cands, k, n, w, measure, min_chars):
                score = _score(bounds, w, em, tier)
                if score is not None and (best is None or score[0] < best[0]):
                    best = (score[0], bounds)
            if best is not None and k >= k_min + 1:
                break  # one more line than needed has been compared
        if best is not None:
            b = best[1]
            return [s[b[j] : b[j + 1]] for j in range(len(b) - 1)]
    lines, start = [], 0  # nothing fits whole: fill each line
    for i in range(1, n + 1):
        if w(start, i) > measure + _EPS and i - 1 > start:
            lines.append(s[start : i - 1])
            start = i - 1
    lines.append(s[start:])
    return lines


def _cuts(cands: list[int], k: int, n: int, w, measure: float, min_chars: int):
    """Candidate bounds (0, c1, …, n) of k lines that each fit and hold ``min_chars``: every combination when
    there are few, else the k-1 cuts nearest the even division and their neighbours."""

    def ok(bounds):
        return all(
            bounds[j + 1] - bounds[j] >= min_chars and w(bounds[j], bounds[j + 1]) <= measure + _EPS for j in range(k)
        )

    if math.comb(len(cands), k - 1) <= _COMBOS:
        for cut in combinations(cands, k - 1):
            bounds = (0, *cut, n)
            if ok(bounds):
                yield bounds
        return
    # many candidates (a long text): around each ideal cut the three nearest candidates
    total = w(0, n)
    near = []
    for j in range(1, k):
        target = total * j / k
        near.append(sorted(cands, key=lambda c: abs(w(0, c) - target))[:3])
    seen = set()
    for pick in _product(near):
        cut = tuple(sorted(set(pick)))
        if len(cut) == k - 1 and cut not in seen:
            seen.add(cut)
            bounds = (0, *cut, n)
            if ok(bounds):
                yield bounds


def _product(lists):
    if not lists:
        yield ()
        return
    for x in lists[0]:
        for rest in _product(lists[1:]):
            yield (x, *rest)


def _score(bounds: tuple[int, ...], w, em: float, tier: list[float | None]) -> tuple[float] | None:
    """The cost of one way to cut, or None for a 沙漏.  Lower is better: lines of similar length (variance in
    em²), a rectangle only as a last resort, the break costs, and each line more than needed."""
    k = len(bounds) - 1
    lens = [w(bounds[j], bounds[j + 1]) / em for j in range(k)]
    tol = 0.5
    for j in range(1, k - 1):  # a valley: shorter than a line on each side of it
        if lens[j] < max(lens[:j]) - tol and lens[j] < max(lens[j + 1 :]) - tol:
            return None
    mean = sum(lens) / k
    score = sum((x - mean) ** 2 for x in lens) / k
    if max(lens) - min(lens) < tol:
        score += 25.0  # a rectangle, where a trapezoid or diamond may exist
    if k == 2 and lens[0] > lens[1] + tol:
        score += 0.5  # an inverted trapezoid is allowed, the upright preferred
    score += sum(tier[c] or 0.0 for c in bounds[1:-1])
    score += 6.0 * (k - 2)
    return (score,)
