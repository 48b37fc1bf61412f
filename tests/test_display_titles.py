"""Display text (titles, covers, posters) in balanced lines at word boundaries: a style with ``balance: true``
never leaves 7 + 2 characters or a word split across its lines."""

from __future__ import annotations

import pytest

import docgen
from docgen.typeset.breaker import break_lines
from docgen.typeset.fonts import FontStack, family
from docgen.typeset.text import ParaFormat, Run, TextStyle
from docgen.typeset.titles import words
from pdfutil import chars, lines_of


@pytest.fixture(scope="module")
def style():
    latin = family("NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoSans-Italic.ttf", "NotoSans-BoldItalic.ttf")
    cjk = family("NotoSansSC-Regular.ttf", "NotoSansSC-Bold.ttf")
    return TextStyle(FontStack((latin,), (cjk,)), 30, bold=True)


def texts(lines):
    return ["".join(p.text for p in ln.pieces) for ln in lines]


def inside_a_word(title: str, lines: list[str]) -> list[str]:
    """The line ends that fall inside a word of the title."""
    ends, pos = [], 0
    for ln in lines[:-1]:
        pos = title.index(ln.strip(), pos) + len(ln.strip())
        ends.append(pos)
    return [title[max(0, e - 2) : e + 2] for e in ends for s, t in words(title) if s < e < t]


TITLES = [
    ("杭州西湖导览：一湖烟雨半城山色", "zh"),
    ("2026年全民阅读节暨书香城市建设推进大会", "zh"),
    ("关于做好2026年度市场主体年报工作的通知", "zh"),
    ("West Lake Visitor Guide for Families and Walkers", "en"),
]


@pytest.mark.parametrize("title,lang", TITLES)
@pytest.mark.parametrize("width", [300, 360, 420, 500])
def test_balanced_titles_break_at_word_boundaries_into_even_lines(style, title, lang, width):
    plain = texts(break_lines([Run(title, style)], width, ParaFormat(align="center", lang=lang)))
    got = texts(break_lines([Run(title, style)], width, ParaFormat(align="center", lang=lang, balance=True)))
    assert "".join(got).replace(" ", "") == title.replace(" ", "")
    assert not inside_a_word(title, got), got
    if len(got) > 1:
        n = [len(t) for t in got]
        # no short last line of a few characters where the title could be balanced
        assert min(n) >= 0.4 * max(n), got
    assert len(got) <= len(plain) + 1


def test_a_poster_title_is_balanced_on_the_page():
    spec = {
        "layout": "poster",
        "languages": ["zh"],
        "meta": {"title": "杭州西湖导览：一湖烟雨半城山色，四季皆宜的湖光胜景"},
        "body": [{"paragraph": "正文。"}],
    }
    pdf = docgen.render(spec).pdf
    rows = ["".join(c["text"] for c in ln) for ln in lines_of(chars(pdf)[0][2])]
    title = [r for r in rows if r and r[0] in "杭一四湖" and len(r) > 3][:3]
    assert len(title) >= 2, rows[:6]
    n = [len(t) for t in title]
    assert min(n) >= 0.5 * max(n), title


def test_an_english_title_does_not_load_the_chinese_segmenter():
    # jieba's dictionary takes about half a second to load: a title without Han characters needs no words
    import subprocess
    import sys

    code = (
        "import sys, docgen; docgen.render({'layout': 'poster', 'languages': ['en'], 'meta': {'title': "
        "'West Lake Visitor Guide for Families, Walkers and Everyone Else'}, 'body': [{'paragraph': 'x'}]}); "
        "print('jieba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
