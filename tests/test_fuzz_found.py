"""Escapes the fuzz harness found (tests/fuzz_harness.py, bench/fuzz.py), each kept as a regression test:
the input that raised something other than a DocgenError now gives a clear, located error."""

import pytest

import docgen
from docgen.cli import main
from docgen.errors import SpecError


def test_a_control_character_in_the_yaml_text_is_a_located_spec_error(tmp_path, capsys):
    # found: yaml.reader.ReaderError escaped (PyYAML checks the characters before parsing)
    p = tmp_path / "s.yaml"
    p.write_text("layout: report\nlanguages: [en]\nmeta: {title: T}\nbody:\n  - paragraph: a\x1fb\n", encoding="utf-8")
    with pytest.raises(SpecError) as e:
        docgen.render(p)
    [prob] = e.value.problems
    assert (prob.line, prob.file) == (5, str(p)) and "U+001F is not allowed" in prob.message
    assert main(["validate", str(p)]) == 2 and "internal error" not in capsys.readouterr().err


# ---- docgen check on damaged PDFs: each found escaping from pdfminer/pdfplumber, pikepdf or pdfua ----------------
@pytest.fixture(scope="module")
def small_pdf():
    return docgen.render({"languages": ["zh"], "meta": {"title": "T"}, "body": [{"paragraph": "中文段落"}]}).pdf


def damaged(pdf: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new) and old in pdf  # same length: the cross-reference offsets stay right
    return pdf.replace(old, new, 1)


MEDIABOX = b"/MediaBox [ 0 0 595.2756 841.8898 ]"


@pytest.mark.parametrize(
    "name,old,new",
    [
        ("a name in the MediaBox (PdfminerException)", b"/MediaBox [ 0 0", b"/MediaBox [/x 0"),
        ("a MediaBox of three numbers (IndexError)", MEDIABOX, b"/MediaBox [ 0 0 595.2756          ]"),
        ("a null MediaBox (TypeError)", MEDIABOX, b"/MediaBox null                     "),
        ("a page stream filter pypdf does not know (NotImplementedError)", b"/ASCII85Decode", b"/ASCII05Decode"),
    ],
)
@pytest.mark.parametrize("standard", ["clreq", "gbt9704"])
def test_a_damaged_page_is_a_clear_check_error(small_pdf, tmp_path, capsys, name, old, new, standard):
    from docgen.check import CheckError, check_pdf

    data = damaged(small_pdf, old, new)
    with pytest.raises(CheckError, match="cannot read the PDF"):
        check_pdf(data, standard)
    (tmp_path / "d.pdf").write_bytes(data)
    assert main(["check", str(tmp_path / "d.pdf"), "--standard", standard]) == 2
    assert "internal error" not in capsys.readouterr().err


def test_a_font_that_is_a_number_is_a_clear_pdfa_check_error(small_pdf):
    # found: AttributeError 'int' object has no attribute 'objgen' (pdfa.py walking the fonts)
    import re
    from docgen.check import CheckError, check_pdf

    ref = re.search(rb"/F1\+0 \d+ 0 R", small_pdf).group()
    with pytest.raises(CheckError, match="cannot read the PDF: AttributeError"):
        check_pdf(small_pdf.replace(ref, ref[:-4] + b"    ", 1), "pdfa")


def test_a_truncated_pdf_is_a_clear_pdfua_check_error(small_pdf):
    # found: pdfua.errors.PdfuaError escaped (the pdfua package could not open the file)
    from docgen.check import CheckError, check_pdf

    with pytest.raises(CheckError, match="cannot read the PDF"):
        check_pdf(small_pdf[:2000], "pdfua")


def test_an_unmapped_glyph_is_not_a_cjk_character():
    # found: TypeError in ord() — pdfminer writes '(cid:12)' for a glyph without a Unicode mapping
    from docgen.check.fontroles import is_cjk

    assert not is_cjk("(cid:12)") and is_cjk("中") and not is_cjk("a")


@pytest.mark.parametrize("kind", ["data", "image"])
def test_a_file_name_the_system_refuses_is_a_located_spec_error(tmp_path, capsys, kind):
    # found: OSError (File name too long) escaped from a SQLite URL whose folded plain scalar ran on into the
    # SQL; the same check serves a picture's path
    name = "sales.sqlite " + "GROUP BY s.month " * 30
    if kind == "data":
        block = {"data": {"t": {"url": f"sqlite:///{name}", "sql": "SELECT 1"}}, "body": [{"paragraph": "x"}]}
        where = "data.t"
    else:
        block = {"body": [{"image": {"path": name + ".png"}}]}
        where = "body.0.image.path"
    spec = {"languages": ["en"], "meta": {"title": "T"}, **block}
    with pytest.raises(SpecError) as e:
        docgen.render(spec, base_dir=tmp_path)
    [prob] = e.value.problems
    assert prob.path.startswith(where) and "cannot use the file name" in prob.message, prob
