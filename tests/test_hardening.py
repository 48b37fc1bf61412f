"""Hostile or mistaken input: each gets a clear error with its field (and file:line), or prints literally."""
import io
import json
import os
import subprocess
import sys
import textwrap

import pypdf
import pytest

import docgen
from docgen.cli import main
from docgen.errors import SpecError
from pdfutil import chars, nows, pypdf_text

from conftest import EXAMPLES, ROOT


def write(path, text):
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def uris(pdf: bytes) -> list[str]:
    out = []
    for p in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for a in p.get("/Annots", []) or []:
            a = a.get_object()
            if "/A" in a and "/URI" in a["/A"]:
                out.append(a["/A"]["/URI"])
    return out


def test_parameter_values_are_text_not_markup(tmp_path):
    spec = write(tmp_path / "p.yaml", """\
        languages: [en]
        params: {name: {type: text}}
        meta: {title: "Invoice for {name}"}
        body:
          - paragraph: "Dear {name}, see [our terms](https://example.com/terms)."
        """)
    evil = "[Pay here](https://evil.example) **now**"
    res = docgen.render(spec, params={"name": evil})
    assert set(uris(res.pdf)) == {"https://example.com/terms"}
    assert nows(evil) in nows("".join(pypdf_text(res.pdf)))
    assert pypdf.PdfReader(io.BytesIO(res.pdf)).metadata.title == f"Invoice for {evil}"


def test_data_cells_are_text_not_markup(tmp_path):
    (tmp_path / "rows.csv").write_text("item,note\nA,[click](https://evil.example)\nB,**loud**\n", encoding="utf-8")
    spec = write(tmp_path / "t.yaml", """\
        languages: [en]
        meta: {title: Data}
        data: {rows: {file: rows.csv}}
        body:
          - table: {source: rows}
        """)
    res = docgen.render(spec)
    assert uris(res.pdf) == []
    text = nows("".join(pypdf_text(res.pdf)))
    assert "[click](https://evil.example)" in text and "**loud**" in text


@pytest.mark.parametrize("url", ["sqlite+pysqlite:///../escaped.sqlite", "sqlite:////tmp/any.sqlite",
                                 "sqlite:///~/x.sqlite"])
def test_sqlite_databases_stay_in_the_spec_folder(tmp_path, url):
    d = tmp_path / "spec"
    d.mkdir()
    spec = write(d / "s.yaml", f"""\
        languages: [en]
        meta: {{title: t}}
        data: {{q: {{sql: "select 1 as a", url: "{url}"}}}}
        body: [{{table: {{source: q}}}}]
        """)
    with pytest.raises(SpecError) as e:
        docgen.render(spec)
    assert e.value.problems[0].path == "data.q.url"
    assert not (tmp_path / "escaped.sqlite").exists()


def test_layout_paths_stay_in_the_spec_folder(tmp_path):
    outside = tmp_path / "outside"
    (outside).mkdir()
    for f in ("theme.yaml", "template.xml.j2"):
        (outside / f).write_text((ROOT / "layouts" / "report" / f).read_text(encoding="utf-8"), encoding="utf-8")
    d = tmp_path / "spec"
    d.mkdir()
    for layout in ("../outside", str(outside)):
        spec = write(d / "s.yaml", f"layout: {layout}\nlanguages: [en]\nmeta: {{title: t}}\n")
        with pytest.raises(SpecError) as e:
            docgen.render(spec)
        assert e.value.problems[0].path == "layout" and "outside the spec's folder" in str(e.value)


@pytest.mark.parametrize("body, where, msg", [
    ("- paragraph: \"bell \\a\"", "body.0.paragraph", "control character U+0007"),
    ("- table: {header: [a, b], widths: [0, 1]}", "body.0.table.widths.0", "greater than 0"),
])
def test_bad_values_name_their_field(tmp_path, body, where, msg):
    spec = write(tmp_path / "b.yaml", "languages: [en]\nmeta: {title: t}\nbody:\n  " + body + "\n")
    with pytest.raises(SpecError) as e:
        docgen.render(spec)
    p = e.value.problems[0]
    assert (p.path, p.file, p.line) == (where, str(spec), 4) and msg in p.message


@pytest.mark.parametrize("text, msg", [
    ("meta: {title: t, date: 2026-13-45}\n", "month must be in 1..12"),
    ("a: " + "[" * 20000 + "]" * 20000 + "\n", "nested too deeply"),
])
def test_unreadable_yaml_is_a_spec_error(tmp_path, text, msg):
    spec = tmp_path / "y.yaml"
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as e:
        docgen.render(spec)
    assert msg in str(e.value)


def test_errors_found_after_loading_carry_file_and_line(tmp_path):
    spec = write(tmp_path / "a.yaml", """\
        languages: [zh]
        meta: {title: t}
        body:
          - paragraph: 图在下面
          - image: {path: missing.png}
        """)
    with pytest.raises(SpecError) as e:
        docgen.render(spec)
    assert str(e.value) == f"{spec}:5 body.1.image.path: file not found: missing.png"


@pytest.mark.parametrize("theme, where", [
    ({"colors": {"text": "notacolour"}}, "theme.colors"),
    ({"stacked_secondary": "nope"}, "theme"),
    ({"styles": {"body": {"color": "chartreuse"}}}, "theme"),
])
def test_bad_colours_are_errors(theme, where):
    with pytest.raises(SpecError) as e:
        docgen.render({"meta": {"title": "t"}, "theme": theme})
    assert e.value.problems[0].path == where


def test_strict_keeps_an_existing_pdf(tmp_path):
    spec = write(tmp_path / "s.yaml", "languages: [zh]\nmeta: {title: t}\ntheme: {fonts: {system_fallback: false}}\n"
                                      "body:\n  - paragraph: \"缺字\U00020BB7\"\n")
    out = tmp_path / "s.pdf"
    out.write_bytes(b"%PDF-1.4 previous good file")
    r = subprocess.run([sys.executable, "-m", "docgen", "render", str(spec), "-o", str(out), "--strict"],
                       capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, DOCGEN_BACKEND="draft"))
    assert r.returncode == 1 and "U+20BB7" in r.stderr
    assert out.read_bytes() == b"%PDF-1.4 previous good file"


def test_mono_style_uses_the_mono_font():
    res = docgen.render({"languages": ["en"], "meta": {"title": "t"},
                         "theme": {"styles": {"body": {"font": "mono"}}},
                         "body": [{"paragraph": "fixed width text"}]})
    names = {c["fontname"].split("+")[-1] for _, _, cs in chars(res.pdf) for c in cs if c["text"] == "x"}
    assert names == {"NotoSansMono-Regular"}


def test_same_bytes_across_processes_and_hash_seeds():
    code = ("import sys, hashlib, docgen; "
            "print(hashlib.sha256(docgen.render(sys.argv[1]).pdf).hexdigest())")
    digests = set()
    for seed in ("1", "2"):
        r = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "west-lake-guide.yaml")], capture_output=True,
                           text=True, cwd=ROOT, env=dict(os.environ, PYTHONHASHSEED=seed, DOCGEN_BACKEND="draft"))
        assert r.returncode == 0, r.stderr
        digests.add(r.stdout.strip())
    assert len(digests) == 1


def _image_spec(tmp_path, colour):
    from PIL import Image
    Image.new("RGB", (40, 30), colour).save(tmp_path / "logo.png")
    return write(tmp_path / "s.yaml", """\
        languages: [en]
        params: {id: {type: int}}
        meta: {title: "Doc {id}"}
        body: [{image: {path: logo.png}}]
        """)


def test_batch_rerun_renders_again_when_an_image_changed(tmp_path, monkeypatch):
    from docgen.batch import run_batch
    monkeypatch.chdir(tmp_path)
    spec = _image_spec(tmp_path, "red")
    first = run_batch(spec, [{"id": 1}], "out/{id}.pdf", workers=1)
    assert first.ok == 1
    assert run_batch(spec, [{"id": 1}], "out/{id}.pdf", workers=1).skipped == 1
    _image_spec(tmp_path, "blue")
    again = run_batch(spec, [{"id": 1}], "out/{id}.pdf", workers=1)
    assert again.ok == 1 and again.skipped == 0


def test_two_batches_never_write_one_folder_at_once(tmp_path, monkeypatch):
    import fcntl

    from docgen.batch import run_batch
    from docgen.errors import DocgenError
    monkeypatch.chdir(tmp_path)
    spec = _image_spec(tmp_path, "red")
    (tmp_path / "out").mkdir()
    with open(tmp_path / "out" / ".docgen-batch.lock", "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(DocgenError, match="another docgen batch"):
            run_batch(spec, [{"id": 1}], "out/{id}.pdf", workers=1)
    assert run_batch(spec, [{"id": 1}], "out/{id}.pdf", workers=1).ok == 1


# --- a layout's editions come from its theme (issue 15, item 8) ---------------------------------------------------

@pytest.mark.parametrize("layout,editions", [("report", ["parallel", "stacked", "zh", "en"]),
                                              ("brochure", ["parallel", "stacked", "zh", "en"]),
                                              ("poster", ["parallel", "stacked", "zh", "en"]),
                                              ("gongwen", ["zh", "stacked"])])
def test_each_bundled_layout_declares_its_editions(layout, editions):
    from docgen.layout import find, load_theme
    assert load_theme(find(layout), {}).editions == editions


def test_gongwen_refuses_the_editions_it_does_not_typeset(tmp_path, capsys):
    s = {"layout": "gongwen", "languages": ["zh", "en"], "bilingual": "stacked",
         "meta": {"title": {"zh": "关于做好工作的通知", "en": "Notice on the work"}},
         "gongwen": {"biaozhi": "青川市人民政府文件", "zihao": "青政发〔2026〕9号", "zhusong": ["各区人民政府"],
                     "shuming": "青川市人民政府", "chengwen_riqi": "2026-03-06"},
         "body": [{"paragraph": {"zh": "各区人民政府：现将有关事项通知如下。", "en": "To every district: as follows."}}]}
    for edition in ("parallel", "en"):
        with pytest.raises(docgen.SpecError) as e:
            docgen.render(s, edition=edition, base_dir=tmp_path)
        assert f"does not typeset the {edition} edition" in str(e.value) and "editions: zh, stacked" in str(e.value)
    p = tmp_path / "g.yaml"
    p.write_text(json.dumps(s, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    assert main(["render", str(p), "--edition", "all", "-o", str(out / "g.pdf")]) == 0   # stacked and zh, not en
    assert sorted(f.name for f in out.iterdir()) == ["g.stacked.pdf", "g.zh.pdf"]
    assert main(["render", str(p), "--edition", "parallel", "-o", str(tmp_path / "p.pdf")]) == 2
    assert "does not typeset the parallel edition" in capsys.readouterr().err and not (tmp_path / "p.pdf").exists()
