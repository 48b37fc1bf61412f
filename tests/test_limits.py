"""Unbounded work is refused with a field-named error, quickly and in little memory (docgen.spec.limits)."""
import time
import zlib

import pytest

import docgen
from docgen.errors import LayoutError, SpecError
from docgen.spec import limits

from test_errors import HEAD, layout, problem, spec


def test_an_unbroken_word_over_the_limit(tmp_path):
    t = time.monotonic()
    with pytest.raises(SpecError) as e:
        docgen.render(spec(tmp_path, HEAD + "body:\n  - paragraph: " + "a" * (limits.TOKEN_CHARS + 1) + "\n"))
    assert problem(e)[:2] == ("body.0.paragraph", 4) and "unbroken word" in problem(e)[2]
    assert time.monotonic() - t < 10


def test_a_megabyte_word_is_refused_fast(tmp_path):
    t = time.monotonic()
    with pytest.raises(SpecError) as e:
        docgen.render(spec(tmp_path, HEAD + "body:\n  - paragraph: " + "a" * 2**20 + "\n"))
    assert "over the limit" in problem(e)[2] and time.monotonic() - t < 10


def test_long_chinese_text_is_not_a_word(tmp_path):
    assert limits.text_problem("汉字" * (limits.TOKEN_CHARS // 2 + 10)) is None


def test_too_many_blocks_and_rows():
    body = [{"paragraph": "x"}] * (limits.BLOCKS + 1)
    with pytest.raises(SpecError) as e:
        docgen.render({"languages": ["en"], "meta": {"title": "T"}, "body": body})
    assert problem(e)[0] == "body" and "blocks" in problem(e)[2]
    rows = [["x"]] * (limits.TABLE_ROWS + 1)
    with pytest.raises(SpecError) as e:
        docgen.render({"languages": ["en"], "meta": {"title": "T"}, "body": [{"table": {"rows": rows}}]})
    assert problem(e)[0] == "body.0.table.rows"


@pytest.mark.parametrize("template, msg", [
    ("{{ 'a' * 10**8 }}", "over the limit"),
    ("{% for i in range(90000) %}{% for j in range(90000) %}{% endfor %}{% endfor %}", "iterations"),
    ("{{ 9 ** 99999999 }}", "too large a number"),
])
def test_templates_that_would_run_away(tmp_path, template, msg):
    t = time.monotonic()
    with pytest.raises(LayoutError) as e:
        docgen.render(layout(tmp_path, template))
    assert msg in str(e.value) and time.monotonic() - t < 20


def test_template_output_size_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "TEMPLATE_CHARS", 10_000)
    with pytest.raises(LayoutError) as e:
        docgen.render(layout(tmp_path, "{% for i in range(5000) %}<!-- {{ i }} -->{% endfor %}"))
    assert "more than 10,000 characters" in str(e.value)


def test_placeholder_amplification(tmp_path):
    value = "x y" * 30_000
    p = spec(tmp_path, HEAD + f'params: {{a: {{default: "{value}"}}}}\nbody:\n'
                              f'  - paragraph: "{"{a}" * 3000}"\n  - paragraph: "{{a:>100000000}}"\n')
    t = time.monotonic()
    with pytest.raises(SpecError) as e:
        docgen.render(p)
    assert problem(e, 0)[:2] == ("body.0.paragraph", 5) and "placeholders filled" in problem(e, 0)[2]
    assert problem(e, 1)[:2] == ("body.1.paragraph", 6) and "width or precision" in problem(e, 1)[2]
    assert time.monotonic() - t < 10


def test_a_parameter_value_with_a_control_character(tmp_path):
    p = spec(tmp_path, HEAD + "params: {a: {type: text}}\nbody:\n  - paragraph: 'hi {a}'\n")
    with pytest.raises(SpecError) as e:
        docgen.render(p, params={"a": "\x1b[2J"})
    assert problem(e)[0] == "body.0.paragraph" and "U+001B" in problem(e)[2]


# ---- docgen check: bounded reading --------------------------------------------------------------------
def _pdf(objs):
    out = bytearray(b"%PDF-1.4\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    return bytes(out)


CAT = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"


def _bomb(n):
    data = zlib.compress(b" " * n, 9)
    return _pdf([CAT, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", PAGE + b" /Contents 4 0 R >>",
                 b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"])


def _many(nodes, per):
    objs = [CAT, b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (3 + i) for i in range(nodes))
            + b"] /Count %d >>" % (nodes * per)]
    objs += [b"<< /Type /Pages /Parent 2 0 R /Kids [" + b"%d 0 R " % (3 + nodes) * per + b"] /Count %d >>" % per
             ] * nodes
    return _pdf(objs + [b"<< /Type /Page /MediaBox [0 0 595 842] >>"])


@pytest.mark.parametrize("pdf, msg", [
    (_pdf([CAT, b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"]), "cyclic"),
    (_bomb(100 * 2**20), "limit"),
    (_many(60, 100), "at most 5,000"),
    (_pdf([CAT, b"<< /Type /Pages /Kids [" + b"3 0 R " * 200_000 + b"] /Count 1 >>", PAGE + b">>"]), "limit"),
])
def test_check_refuses_pdfs_it_cannot_read_in_bounds(tmp_path, capsys, pdf, msg):
    from docgen.cli import main
    f = tmp_path / "x.pdf"
    f.write_bytes(pdf)
    t = time.monotonic()
    assert main(["check", str(f)]) == 2
    err = capsys.readouterr().err
    assert msg in err and "internal error" not in err and time.monotonic() - t < 30


# ---- isolation for servers: a render in a child process under limits ----------------------------------
SMALL = {"languages": ["en"], "meta": {"title": "T"}, "body": [{"paragraph": "hello"}]}


def test_a_render_under_limits_returns_its_result(tmp_path):
    res = docgen.render(SMALL, limits=docgen.Limits(seconds=120, memory=4 * 2**30), out=tmp_path / "o.pdf")
    assert res.pages >= 1 and (tmp_path / "o.pdf").read_bytes() == res.pdf


def test_a_render_over_its_time_is_stopped():
    t = time.monotonic()
    with pytest.raises(docgen.RenderError) as e:
        # distinct paragraphs (repeated ones would come from the break memo): about 10 s of work unlimited
        body = [{"paragraph": f"第{i}段：" + "中文排版与English混排测试，" * 40} for i in range(5000)]
        docgen.render({**SMALL, "languages": ["zh"], "body": body}, limits=docgen.Limits(seconds=1))
    assert "longer than 1 s" in str(e.value) and time.monotonic() - t < 10


def test_a_render_over_its_memory_is_stopped():
    with pytest.raises(docgen.RenderError) as e:
        docgen.render(SMALL, limits=docgen.Limits(seconds=120, memory=40 * 2**20))
    assert "memory" in str(e.value)


def test_spec_errors_cross_the_process_whole():
    with pytest.raises(SpecError) as e:
        docgen.render({**SMALL, "meta": {"title": "T\x1b"}}, limits=docgen.Limits(seconds=120))
    assert problem(e)[0] == "meta.title"


def test_check_reading_is_bounded_in_time(monkeypatch):
    from docgen.check import CheckError, check_pdf
    monkeypatch.setattr("docgen.check.MAX_SECONDS", 0.0)
    pdf = docgen.render(SMALL).pdf
    with pytest.raises(CheckError) as e:
        check_pdf(pdf)
    assert "took longer than 0 s" in str(e.value)


# ---- pages: a render stops at the first page over the limit ----------------------------------------------------
def pages_spec(n: int) -> dict:
    """A report of ``n`` pages: its title page and n - 1 body pages."""
    body: list[dict] = []
    for i in range(n - 1):
        body += [{"paragraph": f"page {i + 2}"}, {"page_break": None}]
    return {**SMALL, "body": body[:-1]}


def test_the_page_limit_is_documented_and_far_above_a_real_document():
    from docgen.typeset.document import Typesetter
    assert limits.PAGES == 10_000 and Typesetter.max_pages == limits.PAGES and docgen.Limits().max_pages == 10_000


def test_a_render_over_its_page_limit_is_refused_naming_the_limit(tmp_path):
    assert docgen.render(pages_spec(5)).pages == 5
    assert docgen.render(pages_spec(5), limits=docgen.Limits(pages=5)).pages == 5        # at the limit: fine
    t = time.monotonic()
    with pytest.raises(docgen.RenderError) as e:
        docgen.render(pages_spec(400), limits=docgen.Limits(pages=5), out=tmp_path / "o.pdf")
    assert "runs past 5 pages, the page limit" in str(e.value) and "Limits(pages=" in str(e.value)
    assert time.monotonic() - t < 5 and not (tmp_path / "o.pdf").exists()              # stopped at page 6


def test_the_page_limit_holds_in_a_child_process_too():
    with pytest.raises(docgen.RenderError) as e:
        docgen.render(pages_spec(8), limits=docgen.Limits(seconds=120, pages=3))
    assert "runs past 3 pages" in str(e.value)


def test_cli_max_pages(tmp_path, capsys):
    import json
    from docgen.cli import main
    p = tmp_path / "s.yaml"
    p.write_text(json.dumps(pages_spec(4)), encoding="utf-8")
    assert main(["render", str(p), "--max-pages", "3", "-o", str(tmp_path / "o.pdf")]) == 1     # a RenderError
    assert "runs past 3 pages, the page limit" in capsys.readouterr().err and not (tmp_path / "o.pdf").exists()
    assert main(["render", str(p), "--max-pages", "4", "-o", str(tmp_path / "o.pdf")]) == 0
    with pytest.raises(SystemExit):
        main(["render", str(p), "--max-pages", "0"])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_limits_pages_must_be_a_page_count(bad):
    with pytest.raises(ValueError, match="Limits.pages"):
        docgen.Limits(pages=bad)
