"""Body tables (typeset/table.py): split across pages with the header row repeated, rows kept whole and in
order, rows taller than a page cut between lines instead of failing, cell text inside its column box, and
geometry computed once per width."""
from __future__ import annotations

import io
import re
import signal
from contextlib import contextmanager

import pdfplumber
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate

import docgen
from docgen.typeset.flowables import Pair, TextBlock
from docgen.typeset.fonts import FontStack, family
from docgen.typeset.text import ParaFormat, Run, TextStyle
from docgen.typeset.table import TextTable
from pdfutil import lines_of, nows, pypdf_text


@contextmanager
def time_limit(seconds: float):
    """Fail (instead of hanging the suite) when a layout loops."""
    def boom(*_):
        raise TimeoutError(f"took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, boom)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def render(body, languages=("zh", "en"), bilingual="stacked", theme=None):
    spec = {"layout": "report", "languages": list(languages), "meta": {"title": {"zh": "表格", "en": "Tables"}},
            "body": body, "theme": theme or {}}
    if len(languages) > 1:
        spec["bilingual"] = bilingual
    with time_limit(120):
        return docgen.render(spec)


# -- rendered documents --------------------------------------------------------------------------------------

def test_long_bilingual_table_repeats_header_and_keeps_every_row_once_in_order():
    n = 150
    rows = [[str(i), {"zh": f"条目{i:03d}号", "en": f"Entry {i:03d}"}, f"{i * 7.25:,.2f}"] for i in range(1, n + 1)]
    header = [{"zh": "编号", "en": "No."}, {"zh": "名称", "en": "Name"}, {"zh": "金额", "en": "Amount"}]
    res = render([{"paragraph": {"zh": "表前的段落。", "en": "Before the table."}},
                  {"table": {"header": header, "rows": rows, "widths": [1, 3, 2], "align": ["left", "left", "right"]}},
                  {"paragraph": {"zh": "表后的段落。", "en": "After the table."}}])
    pages = [nows(t) for t in pypdf_text(res.pdf)]
    table_pages = [i for i, t in enumerate(pages) if re.search(r"条目\d{3}号", t)]
    assert len(table_pages) >= 3
    assert table_pages == list(range(table_pages[0], table_pages[-1] + 1))     # consecutive pages
    seen = []
    for i in table_pages:
        t = pages[i]
        # the header row, both languages, exactly once at the top of every part, before the rows
        assert t.count("编号No.名称Name金额Amount") == 1, t[:200]
        head = t.index("编号No.名称Name金额Amount")
        nums = [int(m) for m in re.findall(r"条目(\d{3})号", t)]
        assert nums == sorted(nums) and nums, nums
        assert head < t.index(f"条目{nums[0]:03d}号")
        seen += nums
    assert seen == list(range(1, n + 1))              # every row once, in order, none lost at a page break
    whole = "".join(pages)
    for r in rows:                                    # row by row, cell by cell: primary then secondary line
        assert nows(f"{r[0]}{r[1]['zh']}{r[1]['en']}{r[2]}") in whole
    assert whole.index("Beforethetable.") < whole.index("条目001号")
    assert whole.index("条目150号") < whole.index("表后的段落。")


def test_row_taller_than_a_page_is_cut_between_lines_and_nothing_is_lost():
    zh = "".join(f"第{i}句很长的单元格内容，用来撑高这一行。" for i in range(1, 260))
    en = " ".join(f"Sentence {i} of a very long cell." for i in range(1, 120))
    rows = [["1", "短", "a"], ["2", zh, en], ["3", "尾", "z"]]
    res = render([{"paragraph": "表前。"},
                  {"table": {"header": ["序号", "中文", "English"], "rows": rows, "widths": [1, 4, 4]}},
                  {"paragraph": "表后。"}], languages=("zh",))
    pages = [nows(t) for t in pypdf_text(res.pdf)]
    spanned = [t for t in pages if "句很长的单元格内容" in t or "Sentence" in t]
    assert len(spanned) >= 3
    for t in spanned:
        assert t.count("序号中文English") == 1       # the header row on every part
    whole = "".join(pages)
    order = [whole.index(s) for s in ("表前。", "1短a", "第1句", "第259句", "3尾z", "表后。")]
    assert order == sorted(order)
    # each column, read page after page, holds exactly its cell texts: no line lost or doubled at a cut
    cols = ["", "", ""]
    with pdfplumber.open(io.BytesIO(res.pdf)) as pdf:
        for p in pdf.pages:
            top = [ln for ln in p.lines if abs(ln["linewidth"] - 0.8) < 0.01]
            if not top:
                continue
            x0, x1, y0 = top[0]["x0"], top[0]["x1"], top[0]["top"]
            y1 = max(ln["top"] for ln in p.lines if abs(ln["linewidth"] - 0.25) < 0.01)
            edges = [x0 + (x1 - x0) * f for f in (0, 1 / 9, 5 / 9, 1)]
            for ln in lines_of([dict(c, _h=p.height) for c in p.chars if y0 < c["top"] < y1]):
                for c in ln:
                    k = next(k for k in range(3) if edges[k] <= c["x0"] < edges[k + 1])
                    cols[k] += c["text"]
    cols = [nows(c) for c in cols]
    assert cols[0].replace("序号", "") == "123"
    assert cols[1].replace("中文", "") == "短" + nows(zh) + "尾"
    assert cols[2].replace("English", "") == "a" + nows(en) + "z"


def test_cell_text_stays_inside_its_column_and_row():
    long_en = "a long description that needs several lines in its column to be shown in full"
    rows = [[f"R{i}", f"{long_en} {i}", f"{i * 1234.5:,.1f}"] for i in range(1, 9)]
    res = render([{"table": {"header": ["Key", "Description", "Total"], "rows": rows, "widths": [1, 3, 1.5],
                             "align": ["left", "left", "right"]}}], languages=("en",))
    with pdfplumber.open(io.BytesIO(res.pdf)) as pdf:
        page = next(p for p in pdf.pages if "R1" in (p.extract_text() or ""))
        rules = [ln for ln in page.lines if abs(ln["top"] - ln["bottom"]) < 0.01]
        top_rule = [ln for ln in rules if abs(ln["linewidth"] - 0.8) < 0.01]
        row_rules = sorted(ln["top"] for ln in rules if abs(ln["linewidth"] - 0.25) < 0.01)
        head_rule = [ln["top"] for ln in rules if abs(ln["linewidth"] - 0.6) < 0.01]
        assert len(top_rule) == 1 and len(head_rule) == 1 and len(row_rules) == len(rows)
        x0, x1 = top_rule[0]["x0"], top_rule[0]["x1"]
        fr = [1 / 5.5, 3 / 5.5, 1.5 / 5.5]
        edges = [x0, x0 + (x1 - x0) * fr[0], x0 + (x1 - x0) * (fr[0] + fr[1]), x1]
        cols = [(edges[k] + 4, edges[k + 1] - 4) for k in range(3)]         # 4 pt padding either side
        bounds = [head_rule[0]] + row_rules
        body = [c for c in page.chars if c["text"].strip() and bounds[0] < c["top"] < bounds[-1]]
        assert len(body) > 200
        tol = 0.6
        right_edges: dict[float, float] = {}
        desc_lines = set()
        for c in body:
            inside = [k for k, (a, b) in enumerate(cols) if a - tol <= c["x0"] and c["x1"] <= b + tol]
            assert inside, f"{c['text']!r} at {c['x0']:.1f}-{c['x1']:.1f} outside every column {cols}"
            # and inside one row: between two consecutive rules, clear of both
            k = max(i for i, y in enumerate(bounds) if y <= c["top"])
            assert c["bottom"] <= bounds[k + 1] + 0.5, (c["text"], c["bottom"], bounds[k + 1])
            if inside[0] == 1:
                desc_lines.add(round(c["bottom"], 0))
            if inside[0] == 2:
                key = round(c["bottom"], 0)
                right_edges[key] = max(right_edges.get(key, 0), c["x1"])
        assert len(right_edges) == len(rows)
        assert len(desc_lines) >= 2 * len(rows)                                # descriptions wrap
        for v in right_edges.values():                                       # right-aligned column
            assert abs(v - cols[2][1]) < 1.0
    # every row's text is there, in order
    text = nows("".join(pypdf_text(res.pdf)))
    at = [text.index(nows(f"R{i}{long_en} {i}")) for i in range(1, 9)]
    assert at == sorted(at)


def test_caption_spacing_after_a_split_table_matches_an_unsplit_one():
    def caption_gap(n):
        rows = [[str(i), f"条目{i}"] for i in range(1, n + 1)]
        res = render([{"table": {"header": ["序号", "名称"], "rows": rows, "caption": "表一 说明"}}],
                     languages=("zh",), theme={"captions": {"table": "below"}})
        with pdfplumber.open(io.BytesIO(res.pdf)) as pdf:
            for p in pdf.pages:
                if "说明" in (p.extract_text() or ""):
                    last_rule = max(ln["top"] for ln in p.lines if abs(ln["linewidth"] - 0.25) < 0.01)
                    cap = min(c["top"] for c in p.chars if c["text"] == "说")
                    return cap - last_rule
    assert caption_gap(120) == pytest.approx(caption_gap(5), abs=0.05)


# -- the flowable itself ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stack():
    latin = family("NotoSerif-Regular.ttf", "NotoSerif-Bold.ttf")
    cjk = family("NotoSerifSC-Regular.ttf", "NotoSerifSC-Bold.ttf")
    return FontStack((latin,), (cjk,))


def block(stack, text, size=9.0, lead=13.0, align="left"):
    return TextBlock([Run(text, TextStyle(stack, size))], ParaFormat(align=align, lang="zh"), size=size,
                     leading=lead)


def table(stack, n, tall_at=None, name="条目", tall_n=400, **kw):
    header = [[block(stack, "序号")], [block(stack, "名称")]]
    rows = []
    for i in range(n):
        text = "很长的内容，" * tall_n if i == tall_at else f"{name}{i:03d}"
        rows.append([[block(stack, str(i))], [block(stack, text), block(stack, f"Item {i}", size=8.3, lead=12)]])
    return TextTable(header, rows, [1, 3], **kw)


def all_lines(t: TextTable, w: float) -> list[str]:
    inner = t._geom(w).inner
    out = []
    for row in t.rows:
        for cell, cw in zip(row, inner):
            for b in cell:
                out += ["".join(p.text for p in ln.pieces) for ln in b.lines(cw)]
    return out


def test_wrap_is_computed_once_per_width(stack, monkeypatch):
    t = table(stack, 60)
    calls = []
    orig = TextBlock.lines

    def counting(self, width):
        calls.append(width)
        return orig(self, width)

    monkeypatch.setattr(TextBlock, "lines", counting)
    w, h = t.wrap(400, 300)
    assert calls and h > 300
    calls.clear()
    for _ in range(5):
        assert t.wrap(400, 300) == (w, h)
    first, rest = t.split(400, 300)
    first.wrap(400, 300)
    rest.wrap(400, 800)
    assert calls == []                               # cached: no cell re-measured
    t.wrap(300, 300)                                 # another width is measured afresh
    assert calls


def test_split_by_rows_keeps_rows_whole(stack):
    t = table(stack, 40)
    W = 400
    _, h = t.wrap(W, 10000)
    parts, rest, ah = [], t, 200.0
    for _ in range(100):
        if rest.wrap(W, ah)[1] <= ah:
            parts.append(rest)
            break
        sp = rest.split(W, ah)
        assert len(sp) == 2
        assert sp[0].wrap(W, ah)[1] <= ah
        parts.append(sp[0])
        rest = sp[1]
    assert len(parts) > 3
    assert [r for p in parts for r in p.rows] == t.rows       # the same row objects, each once, in order
    assert all(p.header is t.header for p in parts)          # every part repeats the header
    # a part that starts with a row that does not fit, in a frame it might fit later: move on, don't cut
    assert t.split(W, t._geom(W).head_h + 5) == []


def test_row_taller_than_a_frame_is_cut_and_splitting_ends(stack):
    t = table(stack, 5, tall_at=2, full_height=500)
    W = 300
    before = all_lines(t, W)
    rest, ah, parts = t, 500.0, []
    for _ in range(50):
        if rest.wrap(W, ah)[1] <= ah:
            parts.append(rest)
            break
        sp = rest.split(W, ah)
        assert len(sp) == 2, "a row taller than the frame must be cut"
        assert sp[0].wrap(W, ah)[1] <= ah + 1e-6
        parts.append(sp[0])
        rest = sp[1]
    else:
        pytest.fail("splitting never ended")
    assert len(parts) >= 3
    after = [ln for p in parts for ln in all_lines(p, W)]
    assert after == before                               # every line once, in order
    # without knowing the frame, the cut waits until the table stands at the top of an empty frame
    t2 = table(stack, 5, tall_at=0)
    t2.wrap(W, ah)
    assert t2.split(W, ah) == []
    t2._postponed = 1                                    # ReportLab moved it on once already
    assert len(t2.split(W, ah)) == 2
    t3 = table(stack, 5, tall_at=0)
    t3.wrap(W, ah)
    t3._frame = type("Frame", (), {"_atTop": 1})()      # as the frame sets it while asking for a split
    assert len(t3.split(W, ah)) == 2


def test_rows_below_the_first_are_moved_whole_even_at_the_top_of_a_frame(stack):
    t = table(stack, 30, tall_at=10, tall_n=40, full_height=800)
    W = 300
    g = t._geom(W)
    assert 100 < g.row_h[10] < 800
    t._frame = type("Frame", (), {"_atTop": 1})()
    ah = g.head_h + g.cum[9] + g.row_h[10] / 2         # row 10 would have to be cut to start here
    first, rest = t.split(W, ah)
    assert first.rows == t.rows[:10] and rest.rows == t.rows[10:]


def test_tables_side_by_side_in_a_pair_split_together(stack):
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4)
    with time_limit(60):
        doc.build([Pair(table(stack, 90, name="左"), table(stack, 70, name="右"), 12)])
    pages = [nows(t) for t in pypdf_text(buf.getvalue())]
    assert len(pages) >= 3
    left, right = [], []
    for t in pages:
        ls, rs = re.findall(r"左(\d{3})", t), re.findall(r"右(\d{3})", t)
        # each side's part on this page starts with the header row (left part first, then right)
        assert t.count("序号名称") == bool(ls) + bool(rs)
        if ls:
            assert t.index("序号名称") < t.index("左" + ls[0])
        if rs:
            assert t.rindex("序号名称") < t.index("右" + rs[0])
            assert not ls or t.index("左" + ls[-1]) < t.index("右" + rs[0])
        left += map(int, ls)
        right += map(int, rs)
    assert left == list(range(90)) and right == list(range(70))
