"""The CLREQ line breaker measured on rendered PDFs: prohibitions, justification to the measure, the text
layer, the character grid, hyphenation, and the small behaviours around them (indents, newlines)."""
from __future__ import annotations

import io
import math
import re
import subprocess
import sys
from pathlib import Path

import pdfplumber
import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from docgen.typeset.fonts import FontStack, family
from docgen.typeset.breaker import break_lines, missing_chars
from docgen.typeset.text import NO_END, NO_START, Line, ParaFormat, Run, TextStyle
from docgen.typeset.textobject import draw_line

CHECKS = Path(__file__).resolve().parents[2] / "shared" / "checks"
sys.path.insert(0, str(CHECKS))
import clreq_rules  # noqa: E402
from clreq_rules import InkMetrics  # noqa: E402

MM = 72 / 25.4
X0 = 50.0
SIZE = 10.0

MIXED = ("我们在《测试报告》中写道：“这个模型（Qwen-Image 20B）的准确率达到了98.6%。”然后他说——这不是结束……"
         "详见 https://example.com/a/b 的说明。3.2版的改进包括：速度、精度、稳定性；「引号」『双引号』，都要处理！"
         "2024年，我们发布了新版本，支持中英文混排（mixed typesetting）以及标点挤压。他问：“为什么？”"
         "她答：“因为‘规范’如此。”见《GB/T 15834—2011》第4.3节。温度升高了3.5℃，增幅约12%（同比）。")
ZH = ("各省、自治区、直辖市人民政府，国务院各部委、各直属机构：现将《关于进一步加强文件管理的通知》印发给你们，"
      "请认真贯彻执行。一、总体要求。坚持以人民为中心的发展思想，全面贯彻落实各项方针政策，推动各项工作取得新成效。"
      "各地区各部门要高度重视，切实加强组织领导，确保各项措施落到实处——这是“底线”要求……二、主要任务（一）加强制度建设。"
      "建立健全相关制度，完善工作机制；「做到」有章可循、有据可查。")
EN = ("Typesetting systems distinguish between hyphenation opportunities recommended by dictionaries and "
      "emergency breaks. The international organization for standardization publishes specifications; "
      "acronyms like NASA and UNESCO remain unbroken, as does the address https://example.com/a/b. "
      "Justification distributes the remaining space between words, never inside them.")
CJK_RE = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef“”‘’—…"


# ------------------------------------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def stack():
    latin = family("NotoSerif-Regular.ttf", "NotoSerif-Bold.ttf", "NotoSerif-Italic.ttf", "NotoSerif-BoldItalic.ttf")
    cjk = family("NotoSerifSC-Regular.ttf", "NotoSerifSC-Bold.ttf")
    return FontStack((latin,), (cjk,))


class Ink:
    """Ink right edge of a pdfplumber char, using the glyph bounds of the font that drew it."""

    def __init__(self, stack):
        self.by_ps = {}
        for chain in (stack.latin, stack.cjk):
            for fam in chain:
                for f in (fam.regular, fam.bold, fam.italic, fam.bold_italic):
                    ps = pdfmetrics.getFont(f.name).face.name
                    self.by_ps[ps.decode() if isinstance(ps, bytes) else ps] = f.path
        self.metrics = {}

    def __call__(self, c):
        path = self.by_ps[c["fontname"].split("+")[-1]]
        if path not in self.metrics:
            self.metrics[path] = InkMetrics(path)
        return self.metrics[path](c)


def render(paras, path=None, page=(700, 900)):
    """paras: list of (lines, x0) — one page each.  Returns the PDF bytes."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=page, invariant=1)
    for lines, x0 in paras:
        y = page[1] - 40
        for ln in lines:
            draw_line(c, ln, x0, y)
            y -= max(ln.ascent + ln.descent, SIZE) * 1.5
        c.showPage()
    c.save()
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def normalise(text: str) -> str:
    """Whitespace-normalised text: none next to a CJK character, single spaces between Latin words."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(rf" (?=[{CJK_RE}])|(?<=[{CJK_RE}]) ", "", text)


def extracted(pdf_bytes: bytes, lines_per_page: list[list[Line]]) -> tuple[list[str], list[str]]:
    """(pypdf, pdfplumber) text per page, with hyphenated line ends joined (the hyphen is a drawing, so the
    text layer has the word's two halves on two lines, as in any PDF)."""
    def join(t, lines):
        rows = t.split("\n")
        assert len(rows) == len(lines), (rows, len(lines))
        out = ""
        for row, ln in zip(rows, lines):
            out += row + ("" if ln.hyphen is not None else "\n")
        return out
    pp = [join(p.extract_text(), ls) for p, ls in zip(PdfReader(io.BytesIO(pdf_bytes)).pages, lines_per_page)]
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        pl = [join(p.extract_text(), ls) for p, ls in zip(pdf.pages, lines_per_page)]
    return pp, pl


# ------------------------------------------------------------------------------------------------ CLREQ

WIDTHS_EM = (10, 12, 14, 17, 20, 24, 28, 33, 40)


@pytest.fixture(scope="module")
def mixed_pdf(stack, tmp_path_factory):
    st = TextStyle(stack, SIZE)
    text = MIXED * 2
    paras = [(break_lines([Run(text, st)], em * SIZE, ParaFormat()), X0) for em in WIDTHS_EM]
    path = tmp_path_factory.mktemp("pdf") / "mixed.pdf"
    render(paras, path)
    return path, text, paras


def test_mixed_paragraph_obeys_clreq_at_every_width(mixed_pdf, stack):
    path, text, paras = mixed_pdf
    ink = Ink(stack)
    with pdfplumber.open(path) as pdf:
        for em, page, (lines, _) in zip(WIDTHS_EM, pdf.pages, paras):
            right = X0 + em * SIZE
            rows = clreq_rules.page_lines(page)
            assert len(rows) == len(lines)
            v = clreq_rules.check_breaks(rows, "strict", right_edge=right, source=text, ink_right=ink)
            assert v["_mapped"], "extracted characters differ from the source"
            # a long English word may be hyphenated inside Chinese too (the hyphen is drawn, not text)
            v["latin_split"] = [x for x in v["latin_split"] if lines[x[0]].hyphen is None]
            v["ragged"] = [x for x in v["ragged"] if lines[x[0]].hyphen is None]   # the hyphen is a shape
            for kind in ("start", "end", "unbreakable", "latin_split", "overflow", "ragged"):
                assert v[kind] == [], (em, kind, v[kind])
            for row, ln in zip(rows[:-1], lines):
                last = row[-1]
                if ln.hyphen is not None:
                    continue
                # a full-width closing mark at the line end may have its blank half squeezed out: then its
                # advance box sticks out by up to half an em while its ink stays inside
                if last["text"] in "，。、：；！？”’」』）》〕】" and last["x1"] > right + 0.5:
                    assert last["x0"] + 0.5 * last["size"] <= right + 0.5
                else:
                    assert abs(last["x1"] - right) <= 0.5, (em, clreq_rules.line_text(row))
            for ln in lines[:-1]:
                assert abs(ln.width - em * SIZE) <= 0.5
            assert lines[-1].last and not any(ln.last for ln in lines[:-1])


def test_check_pdf_tool_passes(mixed_pdf):
    path = mixed_pdf[0]
    r = subprocess.run([sys.executable, str(CHECKS / "check_pdf.py"), str(path), "--level", "strict",
                        "--all-breaks"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_prohibited_starts_and_ends_never_happen_in_api_output(stack):
    st = TextStyle(stack, SIZE)
    for em in range(8, 41):
        lines = break_lines([Run(MIXED + ZH, st)], em * SIZE, ParaFormat())
        texts = ["".join(p.text for p in ln.pieces) for ln in lines]
        for a, b in zip(texts, texts[1:]):
            assert b[0] not in NO_START and a[-1] not in NO_END, (em, a, b)


def test_push_in_squeezes_punctuation_and_pull_out_moves_a_character(stack):
    st = TextStyle(stack, SIZE)
    W = 10 * SIZE
    # 。 would start line 2: with ， and 。 squeezed to half width it fits on line 1 (push in)
    lines = break_lines([Run("一二三四，六七八九十。后面的文字", st)], W, ParaFormat())
    assert "".join(p.text for p in lines[0].pieces) == "一二三四，六七八九十。"
    assert lines[0].width == pytest.approx(W)
    # only the 。 itself to squeeze (half an em short): pull out instead
    lines = break_lines([Run("一二三四五六七八九十。后面的文字", st)], W, ParaFormat())
    assert "".join(p.text for p in lines[0].pieces) == "一二三四五六七八九"
    assert "".join(p.text for p in lines[1].pieces).startswith("十。")
    # —— cannot be squeezed or split: 十 goes down with it (pull out)
    lines = break_lines([Run("一二三四五六七八九十——后面的文字", st)], W, ParaFormat())
    assert "".join(p.text for p in lines[0].pieces) == "一二三四五六七八九"
    assert "".join(p.text for p in lines[1].pieces).startswith("十——")
    assert lines[0].width == pytest.approx(W)
    # an opening mark never ends a line
    lines = break_lines([Run("一二三四五六七八九《十》后面的文字", st)], W, ParaFormat())
    assert "".join(p.text for p in lines[0].pieces) == "一二三四五六七八九"


def test_hanging_punctuation_when_enabled(stack):
    st = TextStyle(stack, SIZE)
    W = 10 * SIZE
    lines = break_lines([Run("一二三四五六七八九十，后面的文字", st)], W, ParaFormat(hang_punct=True))
    assert "".join(p.text for p in lines[0].pieces) == "一二三四五六七八九十，"
    assert lines[0].width == pytest.approx(W)                      # the comma hangs outside the measure
    assert lines[0].pieces[-1].x + lines[0].pieces[-1].width > W


def test_consecutive_punctuation_takes_one_and_a_half_em(stack):
    st = TextStyle(stack, SIZE)
    lines = break_lines([Run("他说：“好。”然后（走了）。", st)], 400, ParaFormat(align="left"))
    data = render([(lines, X0)])
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        chars = [c for c in pdf.pages[0].chars if c["text"].strip()]
    x = {i: c["x0"] for i, c in enumerate(chars)}
    t = "".join(c["text"] for c in chars)
    assert t == "他说：“好。”然后（走了）。"
    # ：“ and 。” and ）。 : the pair occupies 1.5 em (the first mark's blank half is squeezed out)
    for pair in ("：“", "。”", "）。"):
        i = t.index(pair)
        assert x[i + 1] - x[i] == pytest.approx(0.5 * SIZE, abs=0.01), pair
    assert x[t.index("“好") + 2] - x[t.index("：“")] == pytest.approx(2.5 * SIZE, abs=0.01)


def test_quarter_em_between_han_and_latin_without_extra_text(stack):
    st = TextStyle(stack, SIZE)
    for src in ("使用Qwen模型", "使用 Qwen 模型"):
        lines = break_lines([Run(src, st)], 400, ParaFormat(align="left"))
        data = render([(lines, X0)])
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            chars = [c for c in pdf.pages[0].chars if c["text"].strip()]
        assert "".join(c["text"] for c in chars) == "使用Qwen模型"
        assert chars[2]["x0"] - chars[1]["x1"] == pytest.approx(0.25 * SIZE, abs=0.01)
        assert chars[6]["x0"] - chars[5]["x1"] == pytest.approx(0.25 * SIZE, abs=0.01)
        assert normalise(PdfReader(io.BytesIO(data)).pages[0].extract_text()) == "使用Qwen模型"


def test_latin_tokens_stay_whole_in_chinese(stack):
    st = TextStyle(stack, SIZE)
    text = "版本号为3.2版，准确率98.6%，模型Qwen-Image 20B，地址https://example.com/a/b，代码" * 4
    # the URL and the comma that may not start a line (squeezed to half an em) need this much
    url = sum(stack.latin[0].regular.advance(c) for c in "https://example.com/a/b") * SIZE + SIZE / 2
    for em in range(math.ceil(url / SIZE), 30):
        lines = break_lines([Run(text, st)], em * SIZE, ParaFormat())
        joined = "\n".join("".join(p.text for p in ln.pieces) for ln in lines)
        for token in ("3.2", "98.6%", "Qwen-Image", "20B"):
            assert joined.count(token) == 4, (em, token, joined)
        # a URL stays whole or breaks where an address may: before a slash, after a dot (not after https:)
        assert joined.replace("\n", "").count("https://example.com/a/b") == 4
        for a, b in re.findall(r"(.)\n(.)", joined):
            assert not ((a + b).isascii() and (a + b).isalnum() and a + b in text) or a in "./" or b == "/", (em, joined)
        assert "https:\n" not in joined and "https:/\n" not in joined


# ------------------------------------------------------------------------------------------------ text layer

def _url_whole(t: str) -> str:
    i = t.find("https://")
    j = t.find("/b", i)
    return t if i < 0 or j < 0 else t[:i] + t[i:j + 2].replace(" ", "") + t[j + 2:]


def test_text_layer_round_trips(stack):
    st = TextStyle(stack, SIZE)
    cases = [(ZH, "zh", (12, 23, 31)), (MIXED, "zh", (24, 31, 40)), (EN, "en", (12, 13, 17, 24, 40))]
    hyphenated = 0
    for text, lang, widths in cases:
        lines_pp = [break_lines([Run(text, st)], em * SIZE, ParaFormat(lang=lang)) for em in widths]
        hyphenated += sum(ln.hyphen is not None for ls in lines_pp for ln in ls)
        for ls in lines_pp:   # the URL whole, or broken between lines where an address may break
            assert "https" not in text or "https://example.com/a/b" in "".join("".join(p.text for p in ln.pieces) for ln in ls)
        data = render([(ls, X0) for ls in lines_pp])
        pp, pl = extracted(data, lines_pp)
        for em, a, b in zip(widths, pp, pl):
            # a URL broken inside (at a dot, before a slash) reads back with the line break as a space
            a, b = (_url_whole(normalise(t)) for t in (a, b))
            assert a == normalise(text), (lang, em, "pypdf")
            assert b == normalise(text), (lang, em, "pdfplumber")
    assert hyphenated >= 2                               # the narrow English widths did hyphenate


def test_english_hyphenates_with_a_drawn_hyphen(stack):
    st = TextStyle(stack, SIZE)
    W = 13 * SIZE
    lines = break_lines([Run(EN, st)], W, ParaFormat(lang="en"))
    hy = [ln for ln in lines if ln.hyphen is not None]
    assert hy, "no line was hyphenated at 13 em"
    data = render([(lines, X0)])
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        assert "-" not in page.extract_text().replace("https://example.com", "")
        rects = page.rects
        assert len(rects) == len(hy)
        rows = clreq_rules.page_lines(page)
        for r in rects:               # each hyphen sits just after the last letter of a line, inside the measure
            row = min(rows, key=lambda row: abs((page.height - row[0]["_base"]) - r["bottom"]))
            assert 0 <= r["x0"] - row[-1]["x1"] < 1.5 and r["x1"] <= X0 + W + 0.01
    words = set(re.findall(r"[A-Za-z]+", EN))
    pieces_text = "\n".join("".join(p.text for p in ln.pieces) + ("-" if ln.hyphen else "") for ln in lines)
    for ln in hy:                     # only dictionary points: both halves at least 3 letters, no acronyms
        left = re.findall(r"[A-Za-z]+$", "".join(p.text for p in ln.pieces))[0]
        assert len(left) >= 3 and left.islower() or left[0].isupper() and left[1:].islower()
    assert "NASA" in pieces_text and "UNESCO" in pieces_text
    assert "https://example.com/a/b" in pieces_text.replace("\n", "")
    for ln in lines[:-1]:
        assert abs(ln.width - W) <= 0.5
    assert all(w in normalise(extracted(data, [lines])[1][0]) for w in words)


def test_no_hyphenation_when_off(stack):
    st = TextStyle(stack, SIZE)
    for lang in ("zh", "en"):
        lines = break_lines([Run(EN, st)], 14 * SIZE, ParaFormat(lang=lang, hyphenate=False))
        assert all(ln.hyphen is None for ln in lines)


# ------------------------------------------------------------------------------------------------ grid

def test_character_grid_28_cells(stack):
    pitch = 156 * MM / 28
    st = TextStyle(stack, 16)
    fmt = ParaFormat(grid_pitch=pitch, first_indent=2 * pitch)
    lines = break_lines([Run(ZH * 2, st)], 156 * MM, fmt)
    data = render([(lines, 28 * MM)], page=(210 * MM, 297 * MM * 2))
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        rows = clreq_rules.page_lines(pdf.pages[0])
    assert len(rows) == len(lines)
    v = clreq_rules.check_breaks(rows, "strict")
    assert not (v["start"] or v["end"] or v["unbreakable"])
    full = 0
    for i, row in enumerate(rows[:-1]):
        cells = len(row) + (2 if i == 0 else 0)
        xs = [c["x0"] for c in row]
        assert xs[0] == pytest.approx(28 * MM + (2 * pitch if i == 0 else 0), abs=0.01)
        steps = [b - a for a, b in zip(xs, xs[1:])]
        if cells == 28:
            full += 1
            assert all(abs(s - pitch) < 0.01 for s in steps), steps
        else:   # pushed in (two marks share the last cell) or pulled out (ragged); all else on the grid
            assert 25 <= cells <= 29, cells
            k = len(xs) - 1 if cells == 29 else len(xs)
            assert all(abs(s - pitch) < 0.01 for s in steps[:k - 1]), steps
        assert row[-1]["x0"] < 28 * MM + 156 * MM - pitch / 2 + 0.01     # last glyph starts inside the measure
    assert full >= len(rows) - 4


def test_grid_push_in_and_pull_out(stack):
    pitch = 156 * MM / 28
    st = TextStyle(stack, 16)
    fmt = ParaFormat(grid_pitch=pitch)
    # the 28th cell holds a mark: the comma is pushed in and the two share that cell; all else on the grid
    lines = break_lines([Run("永" * 27 + "。，下一行", st)], 156 * MM, fmt)
    first = "".join(p.text for p in lines[0].pieces)
    assert first == "永" * 27 + "。，"
    assert lines[0].width == pytest.approx(28 * pitch)
    assert [p.x for p in lines[0].pieces][0] == 0 and lines[0].pieces[0].char_space == pytest.approx(pitch - 16)
    # a squeezable mark earlier in the line does not help: squeezing it would move the rest off the grid
    lines = break_lines([Run("一二三、" + "永" * 24 + "，下一行", st)], 156 * MM, fmt)
    assert "".join(p.text for p in lines[0].pieces) == "一二三、" + "永" * 23
    # no squeezable mark: the last Han goes down with the comma
    lines = break_lines([Run("永" * 28 + "，下一行", st)], 156 * MM, fmt)
    assert len("".join(p.text for p in lines[0].pieces)) == 27
    assert "".join(p.text for p in lines[1].pieces).startswith("永，")


# ------------------------------------------------------------------------------------------------ details

def test_first_indent_and_first_width(stack):
    st = TextStyle(stack, SIZE)
    W = 20 * SIZE
    lines = break_lines([Run(ZH, st)], W, ParaFormat(first_indent=2 * SIZE), first_width=15 * SIZE)
    assert lines[0].pieces[0].x == pytest.approx(2 * SIZE)
    assert lines[0].width == pytest.approx(15 * SIZE, abs=0.5)
    for ln in lines[1:-1]:
        assert ln.pieces[0].x <= 0.01 and abs(ln.width - W) <= 0.5


def test_empty_and_forced_breaks(stack):
    st = TextStyle(stack, SIZE)
    W = 20 * SIZE
    assert break_lines([], W, ParaFormat()) == []
    assert break_lines([Run("", st), Run("   \t", st)], W, ParaFormat()) == []
    lines = break_lines([Run("第一行\n第二行比较长，" + "字" * 30, st)], W, ParaFormat())
    assert "".join(p.text for p in lines[0].pieces) == "第一行"
    assert lines[0].width == pytest.approx(3 * SIZE) and not lines[0].last      # ended by \n: not justified
    assert lines[-1].last and abs(lines[1].width - W) <= 0.5
    lines = break_lines([Run("甲\n\n乙", st)], W, ParaFormat())
    assert ["".join(p.text for p in ln.pieces) for ln in lines] == ["甲", "", "乙"]
    assert lines[1].ascent > 0                                                 # keeps its line height


def test_alignment_and_styles(stack):
    W = 30 * SIZE
    st = TextStyle(stack, SIZE)
    red = TextStyle(stack, SIZE, color=(1, 0, 0), href="https://example.com", underline=True)
    runs = [Run("这是", st), Run("链接", red), Run("文字。", st)]
    for align in ("left", "center", "right"):
        ln = break_lines(runs, W, ParaFormat(align=align))[0]
        natural = 7 * SIZE
        expect = {"left": 0, "center": (W - natural) / 2, "right": W - natural}[align]
        assert ln.pieces[0].x == pytest.approx(expect)
    ln = break_lines(runs, W, ParaFormat(align="left"))[0]
    assert [p.text for p in ln.pieces] == ["这是", "链接", "文字。"]
    assert ln.pieces[1].color == (1, 0, 0) and ln.pieces[1].href and ln.pieces[1].underline
    data = render([([ln], X0)])
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        assert len(page.annots) == 1 and page.annots[0]["uri"] == "https://example.com"
        assert len(page.lines) == 1
    assert missing_chars(runs) == []


# ------------------------------------------------------------------------------------------------ word records

def _glyph_positions(lines):
    out = []
    for ln in lines:
        row = []
        for pc in ln.pieces:
            x = pc.x
            for c in pc.text:
                row.append((c, x, pc.face.name))
                x += pc.face.advance(c) * pc.size + pc.char_space + (pc.word_space if c == " " else 0)
        out.append((row, ln.width, ln.last, ln.hyphen.x if ln.hyphen else None))
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_word_records_set_exactly_like_characters(stack, monkeypatch, lang):
    """ASCII words and runs of Han characters are broken as single records and split into characters only
    where a line end falls in one: every glyph must land where the character-by-character breaker puts it —
    hyphenation, URL breaks, push-in and pull-out next to Han runs, a lone letterspaced word, inline code
    and style changes inside words included."""
    import docgen.typeset.breaker as breaker
    text = (EN + " supercalifragilisticexpialidocious " + MIXED) if lang == "en" else (MIXED + EN)
    k = len(text) // 3
    runs = [Run(text[:k], TextStyle(stack, SIZE)), Run(text[k:2 * k], TextStyle(stack, SIZE, bold=True)),
            Run(text[2 * k:], TextStyle(stack, SIZE, mono=True))]
    checked = 0
    monkeypatch.setattr(breaker, "_RECORDS_MIN_EM", 0)         # records at every width (narrow ones split most)
    for em in (3, 5, 8, 12, 17, 23, 31, 40):
        for fmt in (ParaFormat(lang=lang), ParaFormat(lang=lang, align="left"), ParaFormat(lang=lang, hang_punct=True)):
            fast = _glyph_positions(break_lines(runs, em * SIZE, fmt))
            ref = _glyph_positions(break_lines(runs, em * SIZE, fmt, reference=True))
            assert len(fast) == len(ref)
            for a, b in zip(fast, ref):
                assert [g[0] for g in a[0]] == [g[0] for g in b[0]]
                assert [g[2] for g in a[0]] == [g[2] for g in b[0]]
                assert all(abs(g[1] - h[1]) < 1e-3 for g, h in zip(a[0], b[0]))
                assert abs(a[1] - b[1]) < 1e-3 and a[2] == b[2] and (a[3] is None) == (b[3] is None)
                checked += len(a[0])
    assert checked > 5000


def test_short_ascii_fast_path_sets_like_the_general_path(stack, monkeypatch):
    """Numbers, codes and single words (most table cells) take a direct path: the line must be the one the
    general breaker sets — same glyph positions, width, alignment and indent — and anything that does not
    fit, or needs a second face, goes the general way."""
    import docgen.typeset.breaker as breaker
    cases = ["7", "42", "12,345.67", "-0.5%", "(see)", "x_y", "A/B", "https://example.com/a/b/c/d/e/f/g/h"]
    checked = fast = 0
    for text in cases:
        for align in ("left", "right", "center", "justify"):
            for lang in ("zh", "en"):
                for em in (1, 3, 8, 30):
                    runs = [Run(text, TextStyle(stack, 9))]
                    fmt = ParaFormat(lang=lang, align=align, first_indent=4.0)
                    got = _glyph_positions(break_lines(runs, em * 9, fmt))
                    fast += breaker._one_word(runs[0], em * 9, fmt) is not None
                    with monkeypatch.context() as m:
                        m.setattr(breaker, "_one_word", lambda *a: None)
                        ref = _glyph_positions(break_lines(runs, em * 9, fmt))
                    assert len(got) == len(ref)
                    for a, b in zip(got, ref):
                        assert [g[0] for g in a[0]] == [g[0] for g in b[0]]
                        assert all(abs(g[1] - h[1]) < 1e-6 for g, h in zip(a[0], b[0]))
                        assert abs(a[1] - b[1]) < 1e-6 and a[2] == b[2]
                    checked += 1
    assert fast > 100 and checked - fast > 20         # both paths were exercised


def test_english_prose_fast_path_sets_like_the_general_path(stack):
    """Plain English paragraphs (one style, printable ASCII, one face) are broken on whole words: every
    glyph, line width, hyphen and last-line flag must be what the general breaker gives — push-in by
    squeezing word spaces, dictionary hyphenation, compounds, punctuation that may not start or end a line,
    collapsed spaces, first-line width and indent — and the cases it leaves (a word wider than the line, a
    lone word to letterspace) must still come out right through the general path."""
    from docgen.typeset.breaker import _refit
    from docgen.typeset.latin import latin_lines
    words = ("the of and typesetting automation High-quality e-mail Pydantic (see) [note] 50% 3.14 well-known "
             "internationalization supercalifragilisticexpialidocious a I re-render documents. quickly, Reports; "
             "ok! what? ReportLab's \"quoted\" x-ray 2026-11-28 hyphenation representation co-operate "
             "(parenthetical remark) end. A.B.C. e.g. i.e., $5 #tag ... ;;").split()
    import random
    rng = random.Random(5)
    texts = [EN, "  " + EN.replace(" ", "   ", 5) + " "]
    texts += [" ".join(rng.choice(words) for _ in range(rng.randint(2, 90))) for _ in range(30)]
    checked = fast = refitted = 0
    for text in texts:
        for bold in (False, True):
            runs = [Run(text, TextStyle(stack, SIZE, bold=bold))]
            for em in (5, 9, 14, 20, 31, 45):
                for fmt in (ParaFormat(lang="en"), ParaFormat(lang="en", align="left"),
                            ParaFormat(lang="en", align="center", first_indent=12),
                            ParaFormat(lang="en", align="right", hyphenate=False)):
                    for fw in (None, em * SIZE * 0.6):
                        got = break_lines(runs, em * SIZE, fmt, first_width=fw)
                        first = latin_lines(runs[0], em * SIZE, fmt, fw)
                        fast += first is not None
                        # the word-level total fit (first fit's lines rejected) was what set them
                        refitted += (first is not None and _glyph_positions(first) != _glyph_positions(got)
                                     and latin_lines(runs[0], em * SIZE, fmt, fw, _refit(fmt, SIZE)) is not None)
                        ref = break_lines(runs, em * SIZE, fmt, first_width=fw, reference=True)
                        a, b = _glyph_positions(got), _glyph_positions(ref)
                        assert len(a) == len(b)
                        for x, y in zip(a, b):
                            assert [g[0] for g in x[0]] == [g[0] for g in y[0]]
                            assert all(abs(g[1] - h[1]) < 1e-6 for g, h in zip(x[0], y[0]))
                            assert abs(x[1] - y[1]) < 1e-6 and x[2] == y[2]
                            assert (x[3] is None) == (y[3] is None) and (x[3] is None or abs(x[3] - y[3]) < 1e-6)
                        checked += 1
    assert fast > 0.6 * checked and checked - fast > 50          # both paths were exercised
    assert refitted > 50                                        # and total fit on whole words


def test_glyphs_land_where_set_across_font_subsets(stack):
    """ReportLab embeds a CJK font as 256-glyph subsets, so a justified Chinese line switches fonts between
    strings; every glyph must still be where the breaker put it — in pdfplumber (which adds Tc only between
    the glyphs of one string) and in PDFium (which follows the PDF specification)."""
    import pypdfium2
    face = stack.cjk[0].regular
    han = [chr(c) for c in range(0x4E00, 0x6000) if face.covers(chr(c))][:700]
    text = "".join(han[i] + ("，" if i % 37 == 36 else "") for i in range(len(han))) + "。"
    lines = break_lines([Run(text, TextStyle(stack, SIZE))], 31.3 * SIZE, ParaFormat(lang="zh"))
    assert sum(any(pc.char_space > 0.05 for pc in ln.pieces) for ln in lines) >= 5   # justified, spaced
    data = render([(lines, X0)])
    want = [(g[0], X0 + g[1]) for row, *_ in _glyph_positions(lines) for g in row]
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        got = [(c["text"], c["x0"]) for c in pdf.pages[0].chars]
    assert [g[0] for g in got] == [w[0] for w in want]
    assert max(abs(g[1] - w[1]) for g, w in zip(got, want)) < 0.01
    page = pypdfium2.PdfDocument(data)[0]
    tp = page.get_textpage()
    xs = [tp.get_charbox(i, loose=True)[0] for i in range(tp.count_chars())
          if tp.get_text_range(i, 1) not in ("\r", "\n", " ")]
    assert len(xs) == len(want)
    assert max(abs(x - w[1]) for x, w in zip(xs, want)) < 0.01
    content = PdfReader(io.BytesIO(data)).pages[0].get_contents().get_data()
    assert len(set(re.findall(rb"/F\d+\+(\d+) ", content))) >= 3 and b"] TJ" in content   # 3+ subsets


def test_lines_drawn_together_match_lines_drawn_one_by_one(stack):
    """``draw_lines`` writes a whole paragraph (or table part) as one text object, carrying font, spacing,
    colour and render mode from line to line: the page must read exactly as when each line is drawn on its
    own — same glyphs, positions, fonts and colours, one link annotation per linked piece, the same
    underline and hyphen shapes — and the canvas state after it must be the same."""
    from docgen.typeset.textobject import draw_lines
    single = FontStack((stack.latin[0],), (family("NotoSerifSC-Regular.ttf"),))    # CJK bold: synthetic
    runs = [Run(MIXED, TextStyle(single, SIZE)), Run("加粗的中文" * 6, TextStyle(single, SIZE, bold=True)),
            Run(" see the documentation ", TextStyle(single, SIZE, color=(0.8, 0.1, 0.1), href="https://example.com",
                                                    underline=True)),
            Run(EN, TextStyle(single, SIZE, color=(0.1, 0.1, 0.6)))]
    lines = break_lines(runs, 23 * SIZE, ParaFormat(lang="en"))
    assert any(ln.hyphen for ln in lines) and any(pc.face.synthetic_bold for ln in lines for pc in ln.pieces)

    def page(together: bool) -> bytes:
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=(700, 900), invariant=1)
        placed = [(ln, X0, 850 - 16 * i) for i, ln in enumerate(lines)]
        if together:
            draw_lines(c, placed)
        else:
            for p in placed:
                draw_line(c, *p)
        c.setFont("Helvetica", 9)
        c.drawString(X0, 40, "after")                 # drawn with the state the lines left behind
        c.save()
        return buf.getvalue()

    def read(data):
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pg = pdf.pages[0]
            chars = [(ch["text"], round(ch["x0"], 3), round(ch["top"], 3), ch["fontname"],
                      ch["non_stroking_color"], ch["size"]) for ch in pg.chars]
            return chars, [a["uri"] for a in pg.annots], len(pg.rects), len(pg.lines)

    together, alone = read(page(True)), read(page(False))
    assert together == alone
    assert together[1] == ["https://example.com"] * sum(1 for ln in lines for pc in ln.pieces if pc.href)
    assert together[0][-1][0] == "r" and together[0][-1][4] in ((0,), (0, 0, 0), [0], [0, 0, 0])


@pytest.mark.parametrize("width", [100, 200, 364])
def test_a_segment_starting_with_a_space_before_an_unbreakable_run_sets(stack, width):
    # found by the slow property profile: after a newline, a space then a token too long for the line gave
    # a line with no glyph (IndexError in the line setter)
    import dataclasses

    st = TextStyle(stack, SIZE)
    token = "AiWVscTsETpA" * 10
    runs = [Run("甲乙\n", st), Run(" 一" + token, dataclasses.replace(st, mono=True)), Run("丙", st)]
    lines = break_lines(runs, width, ParaFormat())
    texts = ["".join(p.text for p in ln.pieces) for ln in lines]
    assert texts[0] == "甲乙"
    assert all(t.strip() for t in texts)                    # no line of nothing
    assert "".join(texts[1:]).replace(" ", "") == "一" + token + "丙"
    assert all(ln.width <= width + 0.01 for ln in lines)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_ink_past_the_measure_at_a_justified_line_end(stack, lang):
    # a serif f's hook reaches past its advance: a justified line ending in it keeps the ink inside
    st = TextStyle(stack, SIZE)
    text = ("the proof of the value of a staff of chief officers of the chief of staff " * 4).strip()
    if lang == "zh":
        text = "中文段落里的英文：" + text
    seen = 0
    for em in range(14, 40):
        width = em * SIZE
        for ln in break_lines([Run(text, st)], width, ParaFormat(lang=lang))[:-1]:
            pc = ln.pieces[-1]
            ch = pc.text[-1]
            if ln.hyphen is not None or ch == " ":
                continue
            ink = pc.face.ink(ch)
            right = pc.x + pc.width - (pc.face.advance(ch) - ink[2]) * pc.size
            seen += ch == "f"
            assert right <= width + 0.01, (em, "".join(p.text for p in ln.pieces), right - width)
    assert seen                                              # lines ending in f were looked at


@pytest.mark.parametrize("em", [26.5, 38.2, 41.1])
def test_han_characters_before_an_unbroken_address_are_not_spread_apart(stack, em):
    # the address cannot break where the line needs it: it takes a little letterspacing (never enough for
    # text extraction to see a space) rather than the few Han characters before it taking half an em each
    st = TextStyle(stack, SIZE)
    text = ("安装说明见https://docs.example.org/guide/install-and-configure?lang=zh&version=2.4.1的第三节，"
            "配置文件位于~/.config/docgen/themes/default/theme.yaml，其中line_end_compression选项控制行末标点。")
    lines = break_lines([Run(text, st)], em * SIZE, ParaFormat())
    spread = 0
    for ln in lines[:-1]:
        for pc in ln.pieces:
            if re.match(f"[{CJK_RE}]", pc.text):
                assert pc.char_space <= 0.25 * SIZE + 1e-6, (em, pc.text, pc.char_space / SIZE)
            else:
                assert pc.char_space <= 0.05 * SIZE + 1e-6, (em, pc.text, pc.char_space / SIZE)
                spread += pc.char_space > 0
        assert em * SIZE - 0.5 * SIZE < ln.width <= em * SIZE + 0.01     # still justified to the measure
    assert "".join(pc.text for ln in lines for pc in ln.pieces) == text
    assert spread or em < 30                                     # at 26.5 em no line here needs it
