"""Every user-caused failure is a DocgenError with its field path (and file:line for YAML): never
'internal error', never a raw exception from the API.  One test per case of issue 15."""
import io
import os
import shutil
import struct
import zlib

import pytest
from PIL import Image

import docgen
from docgen.cli import main
from docgen.errors import DocgenError, LayoutError, OutputError, SpecError

from conftest import ROOT

HEAD = "languages: [en]\nmeta: {title: T}\n"


def spec(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def problem(exc_info, index=0):
    p = exc_info.value.problems[index]
    return p.path, p.line, p.message


# ---- text no document may hold ------------------------------------------------------------------------
@pytest.mark.parametrize("yaml_text, where, line, msg", [
    (HEAD + 'body:\n  - heading: "A\\x1b[31mB"\n', "body.0.heading", 4, "control character U+001B"),
    (HEAD + 'body:\n  - heading: {en: "A\\ud800B"}\n', "body.0.heading.en", 4, "lone surrogate U+D800"),
    ('languages: [en]\nmeta: {title: T, keywords: [ok, "a\\0b"]}\n', "meta.keywords.1", 2,
     "control character U+0000"),
    (HEAD + 'theme: {styles: {body: {leading: .nan}}}\n', "theme.styles.body.leading", 3, "not a finite number"),
    (HEAD + 'theme: {page_templates: {body: {margins: {top: .inf}}}}\n', "theme.page_templates.body.margins.top",
     3, "not a finite number"),
    (HEAD + 'body:\n  - image: {path: "a\\0b.png"}\n', "body.0.image.path", 4, "control character U+0000"),
])
def test_text_no_document_may_hold(tmp_path, yaml_text, where, line, msg):
    with pytest.raises(SpecError) as e:
        docgen.render(spec(tmp_path, yaml_text))
    got = problem(e)
    assert got[:2] == (where, line) and msg in got[2]


@pytest.mark.parametrize("field", ["biaozhi", "qianfaren", "shuming", "yinfa_jiguan"])
def test_gongwen_fields_refuse_control_characters(tmp_path, field):
    fields = {"biaozhi": "机关", "chengwen_riqi": "2026-01-01", field: "机\\x07关"}
    gw = ", ".join(f'{k}: "{v}"' for k, v in fields.items())
    p = spec(tmp_path, f"layout: gongwen\nlanguages: [zh]\nmeta: {{title: 标题}}\ngongwen: {{{gw}}}\n"
                       "body:\n  - paragraph: 正文\n")
    with pytest.raises(SpecError) as e:
        docgen.render(p)
    assert problem(e)[:2] == (f"gongwen.{field}", 4) and "U+0007" in problem(e)[2]


def test_documents_built_in_python_are_checked_alike():
    from docgen.spec.models import Document
    with pytest.raises(Exception) as e:
        Document(languages=["en"], meta={"title": "T\x1b"})
    assert "meta.title" in str(e.value) and "U+001B" in str(e.value)
    with pytest.raises(SpecError) as e:
        docgen.render({"languages": ["en"], "meta": {"title": "T", "keywords": ["\ud800"]}})
    assert problem(e)[0] == "meta.keywords.0"


# ---- data files ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, content, msg", [
    ("r.csv", "a,b\n" + "x" * 140_000 + ",1\n", "field larger than field limit"),
    ("r.json", "[" * 10_000 + "]" * 10_000, "nested too deeply"),
    ("r.json", '[{"a": ' + "9" * 100_000 + "}]", "integer string conversion"),
])
def test_unreadable_data_files(tmp_path, name, content, msg):
    (tmp_path / name).write_text(content, encoding="utf-8")
    p = spec(tmp_path, HEAD + f"data: {{r: {{file: {name}}}}}\nbody:\n  - table: {{source: r}}\n")
    with pytest.raises(SpecError) as e:
        docgen.render(p)
    assert problem(e)[:2] == ("data.r.file", 3) and msg in problem(e)[2]


# ---- images -------------------------------------------------------------------------------------------
def _png_with_ztxt(size: int) -> bytes:
    b = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(b, "PNG")
    raw = b.getvalue()
    data = b"Comment\x00\x00" + zlib.compress(b"x" * size)
    chunk = struct.pack(">I", len(data)) + b"zTXt" + data + struct.pack(">I", zlib.crc32(b"zTXt" + data))
    return raw[:33] + chunk + raw[33:]


def _truncated_jpeg() -> bytes:
    b = io.BytesIO()
    Image.new("RGB", (200, 200), "red").save(b, "JPEG")
    return b.getvalue()[:len(b.getvalue()) // 2]


@pytest.mark.parametrize("name, data", [("a.jpg", _truncated_jpeg()), ("a.png", _png_with_ztxt(4 * 2**20))])
def test_damaged_images(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(SpecError) as e:
        docgen.render(spec(tmp_path, HEAD + f"body:\n  - image: {{path: {name}}}\n"))
    assert problem(e)[:2] == ("body.0.image.path", 4) and "not a readable PNG or JPEG" in problem(e)[2]


# ---- fonts --------------------------------------------------------------------------------------------
def test_a_file_that_is_not_a_font_names_its_theme_key(tmp_path):
    (tmp_path / "bad.ttf").write_text("not a font", encoding="utf-8")
    p = spec(tmp_path, HEAD + "theme: {fonts: {body: {latin: [{regular: bad.ttf}]}}}\n")
    with pytest.raises(SpecError) as e:
        docgen.render(p)
    assert problem(e)[:2] == ("theme.fonts.body.latin.0.regular", 3)
    assert "not a TrueType/OpenType font" in problem(e)[2]


# ---- layout templates ---------------------------------------------------------------------------------
def layout(tmp_path, template: str):
    lay = tmp_path / "lay"
    lay.mkdir(exist_ok=True)
    shutil.copy(ROOT / "layouts" / "report" / "theme.yaml", lay / "theme.yaml")
    (lay / "template.xml.j2").write_text(f"<document>{template}</document>", encoding="utf-8")
    return spec(tmp_path, "layout: ./lay\n" + HEAD + "body:\n  - paragraph: x\n")


@pytest.mark.parametrize("template, msg", [
    ('{% include "nope.j2" %}', "no template 'nope.j2'"),
    ("{% for i in range(10**7) %}{% endfor %}", "MAX_RANGE"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recurses too deeply"),
])
def test_broken_templates_are_layout_errors(tmp_path, template, msg):
    with pytest.raises(LayoutError) as e:
        docgen.render(layout(tmp_path, template))
    assert msg in str(e.value) and "template.xml.j2" in str(e.value)


def test_an_include_may_not_leave_the_layout_folder(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("HOST SECRET", encoding="utf-8")
    p = layout(tmp_path, '{% include "leak.j2" %}')
    os.symlink(secret, tmp_path / "lay" / "leak.j2")
    with pytest.raises(LayoutError) as e:
        docgen.render(p)
    assert "outside the layout's folder" in str(e.value) and "HOST SECRET" not in str(e.value)


# ---- outputs ------------------------------------------------------------------------------------------
def test_an_output_path_that_is_a_folder(tmp_path):
    (tmp_path / "o.pdf").mkdir()
    with pytest.raises(OutputError) as e:
        docgen.render(spec(tmp_path, HEAD), out=tmp_path / "o.pdf")
    assert "is a directory" in str(e.value)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_an_output_path_that_is_a_fifo_is_not_replaced(tmp_path):
    fifo = tmp_path / "o.pdf"
    os.mkfifo(fifo)
    with pytest.raises(OutputError) as e:
        docgen.render(spec(tmp_path, HEAD), out=fifo)
    assert "FIFO" in str(e.value) and fifo.is_fifo()


def test_a_device_is_not_replaced(tmp_path):
    from docgen._io import atomic_write
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with pytest.raises(OutputError):
        atomic_write("/dev/full", b"x")
    assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")


def test_stale_temp_files_are_swept_by_the_next_write(tmp_path):
    from docgen._io import STALE_SECONDS, atomic_write
    old = tmp_path / ".out.pdf.abcd1234.tmp"
    fresh = tmp_path / ".out.pdf.efgh5678.tmp"
    other = tmp_path / ".notes.tmp"
    for f in (old, fresh, other):
        f.write_bytes(b"partial")
    t = os.path.getmtime(old) - STALE_SECONDS - 5
    os.utime(old, (t, t))
    os.utime(other, (t, t))
    atomic_write(tmp_path / "out.pdf", b"%PDF")
    assert not old.exists() and fresh.exists() and other.exists()


# ---- the CLI says it plainly --------------------------------------------------------------------------
def test_cli_never_says_internal_error_for_these(tmp_path, capsys):
    (tmp_path / "r.csv").write_text("a\n" + "x" * 140_000 + "\n", encoding="utf-8")
    p = spec(tmp_path, HEAD + "data: {r: {file: r.csv}}\nbody:\n  - table: {source: r}\n")
    assert main(["render", str(p), "-o", str(tmp_path / "o.pdf")]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "data.r.file" in err
    (tmp_path / "d.pdf").mkdir()
    assert main(["render", str(spec(tmp_path, HEAD, "t.yaml")), "-o", str(tmp_path / "d.pdf")]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_docgen_errors_are_one_family():
    assert issubclass(OutputError, DocgenError) and OutputError.exit_code == 2


# ---- schedule retention trusts the folder, not the store ----------------------------------------------
def test_retention_deletes_only_pdfs_in_the_jobs_output_folder(tmp_path):
    pytest.importorskip("apscheduler")
    import sqlite3
    from docgen.batch.schedule import _retain, History
    out = tmp_path / "reports"
    out.mkdir()
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me", encoding="utf-8")
    outside_pdf = tmp_path / "other.pdf"
    outside_pdf.write_bytes(b"%PDF-1.7 not ours")
    link = out / "link.pdf"
    os.symlink(outside_pdf, link)
    notpdf = out / "notes.pdf"
    notpdf.write_text("hello", encoding="utf-8")
    old = out / "2026-01.pdf"
    old.write_bytes(b"%PDF-1.7 old")
    h = History(tmp_path / "s.sqlite")
    # the store (which anyone who can write it can change) names files outside and odd ones inside
    for outputs in ([str(victim)], [str(outside_pdf)], [str(out / ".." / "precious.txt")], [str(link)],
                    [str(notpdf)], [str(old)], [str(out / "2026-02.pdf")], [str(out / "2026-03.pdf")]):
        rid = h.start("j", None)
        h.finish(rid, "ok", outputs)
    for name in ("2026-02.pdf", "2026-03.pdf"):
        (out / name).write_bytes(b"%PDF-1.7")
    _retain(h, "j", 2, out.resolve())
    assert victim.read_text(encoding="utf-8") == "keep me" and outside_pdf.exists()
    assert link.is_symlink() and notpdf.exists()
    assert not old.exists() and (out / "2026-03.pdf").exists() and (out / "2026-02.pdf").exists()


def test_batch_file_names_drop_bidi_controls(tmp_path):
    from docgen.batch.naming import OutputPattern
    p = OutputPattern("out/{id}.pdf", base=tmp_path).path({"id": "report\u202efdp.exe"})
    assert "\u202e" not in p.name and p.name == "report_fdp.exe.pdf"


# ---- Document(...) and dicts: validated like YAML, paths against base_dir ------------------------------
def test_a_document_built_in_python_checks_its_translations():
    from docgen.spec.models import Document
    doc = Document(languages=["zh", "en"], meta={"title": {"zh": "标题"}})
    with pytest.raises(SpecError) as e:
        docgen.render(doc)
    assert problem(e)[0] == "meta.title" and "missing the en text" in problem(e)[2]


def test_base_dir_resolves_a_dicts_assets(tmp_path, monkeypatch):
    b = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(b, "PNG")
    (tmp_path / "pic.png").write_bytes(b.getvalue())
    monkeypatch.chdir(ROOT)
    spec = {"languages": ["en"], "meta": {"title": "T"}, "body": [{"image": {"path": "pic.png"}}]}
    with pytest.raises(SpecError):
        docgen.render(spec)                                   # not in the working directory
    assert docgen.render(spec, base_dir=tmp_path).pages >= 1
    with pytest.raises(SpecError) as e:
        docgen.render(spec, base_dir=tmp_path / "nope")
    assert problem(e)[0] == "base_dir"


def test_the_python_floor_is_the_one_the_code_needs():
    import tomllib  # noqa: F401  (3.11+: docgen.regions.config reads its config file with it)
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'requires-python = ">=3.11"' in text
    assert "Python ≥ 3.11" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_content_too_large_for_a_page_says_what_in_words(tmp_path):
    from docgen.errors import RenderError
    # a table's header row repeats on every page, so one taller than a page cannot be set
    p = spec(tmp_path, HEAD + 'body:\n  - table: {header: ["' + "word " * 2500 + '"], rows: [[x]]}\n')
    with pytest.raises(RenderError) as e:
        docgen.render(p)
    msg = str(e.value)
    assert "does not fit" in msg and "mm" in msg and "0x" not in msg and "Flowable" not in msg


def test_data_cells_follow_the_rules_of_text(tmp_path):
    (tmp_path / "r.csv").write_text("a,b\nx\x1by,1\n", encoding="utf-8")
    p = spec(tmp_path, HEAD + "data: {r: {file: r.csv}}\nbody:\n  - table: {source: r}\n")
    with pytest.raises(SpecError) as e:
        docgen.render(p)
    assert problem(e)[:2] == ("data.r", 3) and "row 1, column 'a': control character U+001B" in problem(e)[2]


def test_a_layout_refuses_an_edition_it_does_not_declare(tmp_path, capsys):
    p = layout(tmp_path, "<page>{{ blocks|length }}</page>")
    theme = tmp_path / "lay" / "theme.yaml"
    text = theme.read_text(encoding="utf-8").replace("editions: [parallel, stacked, zh, en]", "editions: [zh, en, parallel]")
    theme.write_text(text, encoding="utf-8")
    p.write_text("layout: ./lay\nlanguages: [zh, en]\nmeta: {title: T}\n", encoding="utf-8")
    with pytest.raises(SpecError) as e:
        docgen.render(p, edition="stacked")
    assert problem(e)[0] == "bilingual" and "does not typeset the stacked edition" in problem(e)[2]
    assert main(["render", str(p), "--edition", "stacked"]) == 2
    assert "editions: zh, en, parallel" in capsys.readouterr().err
