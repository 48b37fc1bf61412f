"""Word splits at line breaks: the lines of a title in, the words broken across a break out.

A title's lines must not break inside a word (GB/T 9704-2012 7.3.1: 回行时要做到词意完整).  Words come
from jieba's dictionary when jieba is installed (``pip install 'docgen[check]'``; imported on first use);
without it only number + unit (``2026年``, ``12.5平方千米``) and 《》 names are protected.
"""

from __future__ import annotations

import re

_NUM_UNIT = re.compile(
    r"[0-9０-９]+(?:\.[0-9]+)?(?:%|％|‰|年度|年|月|日|号|个|项|家|万|亿|元|平方千米|平方公里|千米|公里|米|吨|人|次|届|期|批|条)"
)
_NAME = re.compile(r"《[^《》]*》")
_jieba = None


def _segmenter():
    global _jieba
    if _jieba is None:
        try:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            _jieba = jieba
        except ImportError:
            _jieba = False
    return _jieba or None


def has_dictionary() -> bool:
    return _segmenter() is not None


def broken_words(lines: list[str], line_chars: int | None = None) -> list[tuple[int, str]]:
    """(index of the line before the break, the broken word) for each break inside a word.  ``line_chars``
    is how many characters the measure holds (default: the longest line's); a 《》 name longer than that has
    to break somewhere and is not protected."""
    text = "".join(lines)
    breaks, pos = [], 0
    for ln in lines[:-1]:
        pos += len(ln)
        breaks.append(pos)
    longest = line_chars or max((len(ln) for ln in lines), default=0)
    spans = [(m.start(), m.end()) for m in _NUM_UNIT.finditer(text)]
    # a 《》 name longer than a line has to break somewhere
    spans += [(m.start(), m.end()) for m in _NAME.finditer(text) if m.end() - m.start() <= longest]
    jb = _segmenter()
    if jb is not None:
        i = 0
        for w in jb.cut(text, HMM=False):
            if len(w) > 1 and all("\u4e00" <= ch <= "\u9fff" for ch in w):
                spans.append((i, i + len(w)))
            i += len(w)
    out = []
    for k, b in enumerate(breaks):
        for s, e in spans:
            if s < b < e:
                out.append((k, text[s:e]))
                break
    return out
