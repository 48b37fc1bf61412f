"""Page flow, measured on rendered PDFs: a heading keeps with the first lines of what follows (not all of
it), no paragraph leaves one line alone at a page foot or top, a stacked edition's translation never
starts a page alone, and the running head names the section the page's text belongs to."""

import re

import pytest

import docgen
from pdfutil import MM, baseline, chars, lines_of, nows

# the report layout: A4, body type area 28 mm from the top, 26 mm from the bottom; body leading 17 pt
TOP, BOTTOM, LEAD = 28 * MM, (297 - 26) * MM, 17.0


def body_lines(pdf: bytes) -> list[list[tuple[float, str]]]:
    """Per page, the (baseline from the page top, text) of each line inside the type area."""
    out = []
    for _, _, cs in chars(pdf):
        page = []
        for ln in lines_of(cs):
            y = baseline(ln[0])
            if TOP - 2 < y < BOTTOM + 2:
                page.append((y, "".join(c["text"] for c in ln)))
        out.append(page)
    return out


def header_of(pdf: bytes, page: int) -> str:
    """The running head's text on a page (1-based): the lines above the type area."""
    _, _, cs = chars(pdf)[page - 1]
    return " ".join("".join(c["text"] for c in ln) for ln in lines_of(cs) if baseline(ln[0]) < TOP - 2)


def words(tag: str, n: int) -> str:
    return " ".join(f"{tag}w{i}" for i in range(n))


def filler(k: int) -> list[dict]:
    """k one-line paragraphs: they move what follows down the page a line at a time."""
    return [{"paragraph": f"Filler line number {i}."} for i in range(k)]


def render_en(body: list[dict]) -> bytes:
    return docgen.render({"layout": "report", "languages": ["en"], "meta": {"title": "Flow"}, "body": body}).pdf


def para_of(text: str) -> str | None:
    m = re.search(r"(P\d+)w\d+", text)
    return m.group(1) if m else None


@pytest.mark.parametrize("k", range(20, 30))
def test_a_heading_keeps_with_two_lines_not_the_whole_paragraph(k):
    # a heading near the page foot before a 30-line paragraph: it stays with the paragraph's first lines
    # where they fit; ReportLab's KeepTogether moved heading and paragraph on, leaving up to ten lines empty
    pdf = render_en(
        [{"heading": {"text": "Opening"}}]
        + filler(k)
        + [{"heading": {"text": "Keep Heading"}}, {"paragraph": words("P1", 300)}]
    )
    pages = body_lines(pdf)[2:]  # after the title page and the contents
    where = [(i, j) for i, page in enumerate(pages) for j, (_, t) in enumerate(page) if "KeepHeading" in nows(t)]
    assert len(where) == 1
    i, j = where[0]
    after = [t for _, t in pages[i][j + 1 :]]
    assert len(after) >= 2 and all(para_of(t) == "P1" for t in after[:2]), after
    if j == 0 and i > 0:
        # moved on: the previous page had no room for heading (24 pt + 8 pt after + 16 before) and two lines
        foot = BOTTOM - pages[i - 1][-1][0]
        assert foot < 16 + 24 + 8 + 2 * LEAD + LEAD, f"{foot / LEAD:.1f} lines left empty"


@pytest.mark.parametrize("k", range(18, 28, 2))
def test_a_parallel_heading_keeps_with_two_lines_of_the_pair_after_it(k):
    # the same in a parallel edition: a heading pair keeps with the first lines of the paragraph pair
    body = (
        [{"heading": {"text": {"zh": "开头", "en": "Opening"}}}]
        + [{"paragraph": {"zh": f"第{i}行。", "en": f"Line {i}."}} for i in range(k)]
        + [
            {"heading": {"text": {"zh": "保持标题", "en": "Keep Heading"}}},
            {"paragraph": {"zh": "汉字排版" * 150, "en": words("P1", 300)}},
        ]
    )
    pdf = docgen.render({"layout": "report", "bilingual": "parallel", "meta": {"title": "F"}, "body": body}).pdf
    pages = body_lines(pdf)[2:]
    ((i, j),) = [(i, j) for i, page in enumerate(pages) for j, (_, t) in enumerate(page) if "KeepHeading" in nows(t)]
    assert len(pages[i]) - j - 1 >= 2
    if j == 0:
        assert BOTTOM - pages[i - 1][-1][0] < 16 + 24 + 8 + 3 * LEAD


@pytest.mark.parametrize("n_words", [20, 34, 70, 110])
def test_no_paragraph_leaves_a_single_line_at_a_page_foot_or_top(n_words):
    # paragraphs after fillers that push them across the page foot a line at a time
    totals, splits = set(), []
    for k in range(22, 30):
        body = (
            [{"heading": {"text": "Start"}}]
            + filler(k)
            + [{"paragraph": words("P1", n_words)}, {"paragraph": words("P2", n_words)}]
        )
        pages = body_lines(render_en(body))[2:]
        for tag in ("P1", "P2"):
            spread = [c for c in (sum(1 for _, t in page if para_of(t) == tag) for page in pages) if c]
            totals.add(sum(spread))
            if len(spread) > 1:
                splits.append(spread)
                assert min(spread) >= 2, f"k={k}: {tag} split {spread}"
    (n_lines,) = totals
    # a paragraph under four lines moves on whole; a longer one is split somewhere in the range
    assert bool(splits) == (n_lines >= 4), (n_lines, splits)


def zh_en(i: int, zh_chars: int, en_words: int) -> dict:
    return {"paragraph": {"zh": f"第{i}段" + "汉字排版" * (zh_chars // 4), "en": words(f"P{i}", en_words)}}


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_stacked_translation_never_starts_a_page_alone(seed):
    # a stacked edition: each paragraph in Chinese, then its English; the English half at the top of a page
    # with its Chinese wholly on the page before reads as a stray paragraph under the wrong context
    body = [{"heading": {"text": {"zh": "开头", "en": "Opening"}}}]
    body += [zh_en(i, 40 + 11 * ((i + seed) % 7), 20 + 9 * ((i * 3 + seed) % 5)) for i in range(1, 30)]
    pdf = docgen.render({"layout": "report", "languages": ["zh", "en"], "meta": {"title": "Flow"}, "body": body}).pdf
    pages = body_lines(pdf)[2:]  # after the title page and the contents
    assert len(pages) >= 3
    for n, page in enumerate(pages[1:], start=4):
        first = page[0][1]
        m = re.search(r"(P\d+)w0(?!\d)", first)
        assert m is None, f"page {n} starts with the English of {m.group(1)} alone: {first[:40]!r}"
        # and what does start it is never a single line of a paragraph begun on the page before
        assert para_of(first) is None or len([t for _, t in page if para_of(t) == para_of(first)]) >= 2


def test_the_running_head_names_the_section_of_the_pages_first_text():
    # Alpha runs over into the next page, where Beta begins mid-page: that page's head still says Alpha;
    # Gamma starts a page of its own: its head says Gamma
    body = [
        {"heading": {"text": "Section Alpha"}},
        {"paragraph": words("P1", 600)},
        {"heading": {"text": "Section Beta"}},
        {"paragraph": words("P2", 40)},
        {"page_break": {}},
        {"heading": {"text": "Section Gamma"}},
        {"paragraph": words("P3", 40)},
    ]
    pdf = render_en(body)
    pages = [[]] * 2 + body_lines(pdf)[2:]  # the title page and the contents hold no section
    beta = next(i for i, p in enumerate(pages) if any("SectionBeta" in nows(t) for _, t in p))
    gamma = next(i for i, p in enumerate(pages) if any("SectionGamma" in nows(t) for _, t in p))
    assert para_of(pages[beta][0][1]) == "P1"  # the page opens with Alpha's text
    assert "SectionAlpha" in nows(header_of(pdf, beta + 1))
    assert "SectionBeta" not in nows(header_of(pdf, beta + 1))
    assert "SectionGamma" in nows(header_of(pdf, gamma + 1))
    assert "SectionAlpha" in nows(header_of(pdf, 3))  # the first body page opens with Alpha


@pytest.mark.parametrize("k", range(22, 30, 2))
def test_a_caption_above_a_table_keeps_with_its_header_and_first_row(k):
    # the caption stands above its table (the theme's captions.table): never alone at a page foot, and a
    # long table under it starts on the caption's page when its header and first row fit there
    rows = [[f"Row {i}", str(i)] for i in range(40)]
    body = [{"heading": {"text": "Start"}}] + filler(k)
    body += [{"table": {"header": ["Item", "Value"], "rows": rows, "caption": "Table 1. Long table"}}]
    pages = body_lines(render_en(body))[2:]
    cap = next(i for i, p in enumerate(pages) if any("Table1.Longtable" in nows(t) for _, t in p))
    head = next(i for i, p in enumerate(pages) if any(nows(t).startswith("ItemValue") for _, t in p))
    assert cap == head
    if cap > 0:  # moved on: the page before had no room for caption, header and a row
        assert BOTTOM - pages[cap - 1][-1][0] < 3 * LEAD + 30


def test_a_run_of_headings_taller_than_a_page_fills_its_pages():
    # every heading keeps with the next: the run can never be kept whole, so it flows on (not a page each)
    body = [{"heading": {"text": f"Heading {i}", "level": 2, "toc": False}} for i in range(300)]
    body.append({"paragraph": words("P1", 300)})
    res = docgen.render({"layout": "report", "languages": ["en"], "meta": {"title": "t"}, "body": body})
    assert res.pages < 20
    pages = body_lines(res.pdf)[2:]
    # one page may end early: where the last headings that can keep with the paragraph move on with it
    assert sum(len(p) < 10 for p in pages[:-1]) <= 1


def test_a_stacked_list_items_translation_never_starts_a_page_alone():
    items = [
        {"zh": f"第{i}项" + "汉字排版" * (8 + 5 * (i % 4)), "en": words(f"P{i}", 12 + 6 * (i % 3))}
        for i in range(1, 80)
    ]
    pdf = docgen.render(
        {"layout": "report", "languages": ["zh", "en"], "meta": {"title": "Flow"}, "body": [{"list": items}]}
    ).pdf
    pages = body_lines(pdf)[2:]
    assert len(pages) >= 3
    for n, page in enumerate(pages[1:], start=4):
        assert re.search(r"(P\d+)w0(?!\d)", page[0][1]) is None, f"page {n}: {page[0][1][:40]!r}"
