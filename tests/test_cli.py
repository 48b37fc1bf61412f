"""The docgen command as a user runs it: exit codes, messages, files."""
import json
import os
import subprocess
import sys

import pypdf
import pytest

from conftest import EXAMPLES, ROOT


def docgen(*args, cwd=None, env=None):
    e = dict(os.environ, DOCGEN_BACKEND="draft")
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "docgen", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=e, timeout=300)


def test_render_writes_the_pdf(tmp_path):
    out = tmp_path / "guide.pdf"
    r = docgen("render", EXAMPLES / "west-lake-guide.yaml", "-o", out)
    assert r.returncode == 0, r.stderr
    assert f"{out}  (" in r.stdout
    assert len(pypdf.PdfReader(out).pages) >= 2


def test_render_all_editions(tmp_path):
    out = tmp_path / "report.pdf"
    r = docgen("render", EXAMPLES / "quarterly-report.yaml", "-o", out, "--edition", "all")
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["report.en.pdf", "report.stacked.pdf", "report.zh.pdf"]


def test_preview_writes_a_png_per_page(tmp_path):
    out = tmp_path / "poster.pdf"
    r = docgen("render", EXAMPLES / "poster.yaml", "-o", out, "--preview", tmp_path / "png")
    assert r.returncode == 0, r.stderr
    pngs = sorted((tmp_path / "png").glob("*.png"))
    assert len(pngs) == len(pypdf.PdfReader(out).pages)
    from PIL import Image
    with Image.open(pngs[0]) as im:
        assert im.size[0] > 500 and im.getextrema() != ((255, 255),) * 3


def test_invalid_spec_exits_2_with_file_line_and_no_traceback(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("meta: {title: t}\nbody:\n  - generate: {prompt: x, aspect: '5:4'}\n", encoding="utf-8")
    out = tmp_path / "bad.pdf"
    r = docgen("render", spec, "-o", out)
    assert r.returncode == 2
    assert f"{spec}:3 body.0.generate.aspect: expected one of" in r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_validate(tmp_path):
    r = docgen("validate", EXAMPLES / "quarterly-report.yaml")
    assert r.returncode == 0 and "ok" in r.stdout
    r = docgen("validate", tmp_path / "missing.yaml")
    assert r.returncode == 2 and "file not found" in r.stderr


def test_layout_errors_exit_1(tmp_path):
    lay = tmp_path / "mylayout"
    lay.mkdir()
    (lay / "theme.yaml").write_text((ROOT / "layouts" / "report" / "theme.yaml").read_text(encoding="utf-8"),
                                    encoding="utf-8")
    (lay / "template.xml.j2").write_text("<document>{{ nosuchvar }}</document>", encoding="utf-8")
    spec = tmp_path / "doc.yaml"
    spec.write_text("layout: ./mylayout\nlanguages: [en]\nmeta: {title: t}\n", encoding="utf-8")
    r = docgen("render", spec, "-o", tmp_path / "x.pdf")
    assert r.returncode == 1
    assert "'nosuchvar' is undefined" in r.stderr and "Traceback" not in r.stderr


def test_layouts_lists_the_bundled_layouts():
    r = docgen("layouts")
    assert r.returncode == 0
    names = [ln.split()[0] for ln in r.stdout.splitlines()]
    assert {"report", "brochure", "poster"} <= set(names)
    assert all(len(ln.split(None, 1)) == 2 for ln in r.stdout.splitlines())


def test_schema_is_json_schema_for_the_spec(tmp_path):
    r = docgen("schema")
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    assert schema["title"] == "docgen document spec"
    assert "body" in schema["properties"]


def test_user_layout_folder(tmp_path):
    lay = tmp_path / "plain"
    lay.mkdir()
    (lay / "theme.yaml").write_text((ROOT / "layouts" / "report" / "theme.yaml").read_text(encoding="utf-8"),
                                    encoding="utf-8")
    (lay / "template.xml.j2").write_text(
        '<document template="body">{% for b in blocks %}<p>{{ t(b.text) }}</p>{% endfor %}</document>',
        encoding="utf-8")
    spec = tmp_path / "doc.yaml"
    spec.write_text("layout: ./plain\nlanguages: [zh]\nmeta: {title: 自定义}\nbody:\n  - paragraph: 自己的版式\n",
                    encoding="utf-8")
    r = docgen("render", spec, "-o", tmp_path / "x.pdf")
    assert r.returncode == 0, r.stderr
    assert "自己的版式" in pypdf.PdfReader(tmp_path / "x.pdf").pages[0].extract_text()


@pytest.mark.parametrize("expr", ["{{ t.__globals__ }}", "{{ ''.__class__.__mro__ }}",
                                  "{{ cycler.__init__.__globals__.os }}"])
def test_templates_run_sandboxed(tmp_path, expr):
    lay = tmp_path / "evil"
    lay.mkdir()
    (lay / "theme.yaml").write_text((ROOT / "layouts" / "report" / "theme.yaml").read_text(encoding="utf-8"),
                                    encoding="utf-8")
    (lay / "template.xml.j2").write_text(f'<document template="body"><p>{expr}</p></document>', encoding="utf-8")
    spec = tmp_path / "doc.yaml"
    spec.write_text("layout: ./evil\nlanguages: [en]\nmeta: {title: t}\n", encoding="utf-8")
    r = docgen("render", spec, "-o", tmp_path / "x.pdf")
    assert r.returncode == 1
    assert "error: " in r.stderr and "is unsafe" in r.stderr or "not allowed in a layout template" in r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.pdf").exists()
