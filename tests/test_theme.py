"""Typed themes: theme.yaml validated as a Theme, a spec's ``theme:`` as a deep partial of it, and every
mistake in either reported at its file:line and field path."""
import json
import shutil
import textwrap

import pytest
from pydantic import BaseModel

import docgen
from conftest import ROOT
from docgen.cli import main
from docgen.errors import LayoutError, SpecError
from docgen.layout import load_theme
from docgen.spec import load_file
from docgen.spec.theme import Theme, ThemeOverrides, partial

THEMES = sorted(ROOT.glob("layouts/*/theme.yaml")) + [ROOT / "bench" / "layouts" / "bench" / "theme.yaml"]


def spec_file(tmp_path, theme_yaml: str):
    p = tmp_path / "doc.yaml"
    p.write_text("languages: [en]\nmeta: {title: t}\ntheme:\n" + textwrap.indent(textwrap.dedent(theme_yaml), "  ")
                 + "body:\n  - paragraph: hello\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("theme_yaml, line, where, msg", [
    ("styles:\n  body:\n    size: huge\n", 6, "theme.styles.body.size", "expected a valid number"),
    ("styles:\n  body:\n    sise: 11\n", 6, "theme.styles.body.sise", "unknown field"),
    ("paper: A9\n", 4, "theme.paper", "expected one of A4"),
    ("colors: {accent: red}\n", 4, "theme.colors", "'red' is not a colour"),
    ("fonts:\n  body:\n    latin: []\n", 6, "theme.fonts.body.latin", "at least 1 item"),
    ("page_templates:\n  body:\n    margins: {top: 20, left: 3}\n", 6, "theme.page_templates.body.margins.left",
     "unknown field"),
])
def test_a_bad_override_is_reported_at_its_yaml_line_and_path(tmp_path, theme_yaml, line, where, msg):
    spec = spec_file(tmp_path, theme_yaml)
    with pytest.raises(SpecError) as e:
        load_file(spec)
    first = str(e.value).splitlines()[0]
    assert first.startswith(f"{spec}:{line} {where}: "), first
    assert msg in first


def test_a_partial_override_keeps_the_rest_of_the_layout_theme(tmp_path):
    doc = load_file(spec_file(tmp_path, "styles:\n  body: {size: 11}\n"))
    assert doc.theme.model_dump() == {"styles": {"body": {"size": 11.0}}}    # only what was given
    theme = load_theme(ROOT / "layouts" / "report", doc.theme)
    body = theme.styles["body"]
    assert (body.size, body.leading, body.indent_em) == (11.0, 17, 2)        # the rest: report's theme.yaml
    assert theme.styles["h1"].color == "accent" and theme.paper == "A4"


def test_no_overrides_dump_as_an_empty_mapping():
    doc = docgen.Document(meta={"title": "t"})
    assert doc.theme.model_dump() == {} and json.loads(doc.model_dump_json())["theme"] == {}
    assert docgen.Document.model_validate(doc.model_dump()).theme.model_dump() == {}


def test_an_explicit_null_is_only_accepted_where_the_theme_accepts_one():
    assert ThemeOverrides.model_validate({"folio": None}).model_dump() == {"folio": None}
    with pytest.raises(ValueError):
        ThemeOverrides.model_validate({"styles": {"body": {"size": None}}})


def test_reference_checks_run_after_the_merge():
    with pytest.raises(SpecError) as e:
        docgen.render({"meta": {"title": "t"}, "theme": {"styles": {"body": {"font": "nosuch"}}}})
    assert e.value.problems[0].path == "theme" and "styles.body.font" in e.value.problems[0].message


def _fields(model):
    out = {}
    for name, f in model.model_fields.items():
        sub = [a for a in (f.annotation, *getattr(f.annotation, "__args__", ())) if isinstance(a, type)
               and issubclass(a, BaseModel)]
        out[name] = _fields(sub[-1]) if sub else None
    return out


def test_the_overrides_are_generated_from_the_theme_models():
    assert _fields(ThemeOverrides) == _fields(Theme)
    assert partial(Theme) is ThemeOverrides
    assert all(not f.is_required() for f in ThemeOverrides.model_fields.values())


@pytest.mark.parametrize("path", THEMES, ids=lambda p: p.parent.name)
def test_every_shipped_theme_validates(path):
    theme = load_theme(path.parent, {})
    assert theme.styles and theme.fonts.body.latin


def copy_layout(tmp_path, edit):
    lay = tmp_path / "mylayout"
    shutil.copytree(ROOT / "layouts" / "report", lay)
    text = (lay / "theme.yaml").read_text(encoding="utf-8")
    (lay / "theme.yaml").write_text(edit(text), encoding="utf-8")
    return lay


def line_with(path, needle):
    return next(i for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in ln)


@pytest.mark.parametrize("old, new, needle, where, msg", [
    ("body:     {size: 10.5,", "body:     {size: huge,", "size: huge", "styles.body.size", "expected a valid number"),
    ("body:     {size: 10.5,", "body:     {sise: 10.5,", "sise: 10.5", "styles.body.sise", "unknown field"),
    ("paper: A4", "paper: A9", "paper: A9", "paper", "expected one of"),
    ("color: accent, align: left, space_before: 16", "color: nocolour, align: left, space_before: 16", "nocolour",
     "styles.h1.color", "is neither a colour of the theme"),
    ("regular: NotoSerif-Regular.ttf", "regular: ../../etc/passwd", "../../etc/passwd", "fonts.body.latin.0.regular",
     "must stay inside"),
])
def test_a_theme_yaml_mistake_names_file_line_and_path(tmp_path, old, new, needle, where, msg):
    lay = copy_layout(tmp_path, lambda t: t.replace(old, new, 1))
    with pytest.raises(LayoutError) as e:
        load_theme(lay, {})
    line = line_with(lay / "theme.yaml", needle)
    first = str(e.value).splitlines()[0]
    assert first.startswith(f"{lay / 'theme.yaml'}:{line} {where}: "), first
    assert msg in first


def test_schema_theme_prints_the_theme_yaml_schema(capsys):
    assert main(["schema", "--theme"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "docgen layout theme (theme.yaml)"
    assert {"fonts", "styles"} <= set(schema["required"])
    assert {"paper", "page_templates", "folio"} <= set(schema["properties"])


def test_the_spec_schema_types_the_theme_overrides(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "docgen document spec"
    over = schema["$defs"][schema["properties"]["theme"]["$ref"].rsplit("/", 1)[-1]]
    assert over["additionalProperties"] is False and "required" not in over
    style = schema["$defs"][over["properties"]["styles"]["additionalProperties"]["$ref"].rsplit("/", 1)[-1]]
    assert "required" not in style and style["properties"]["size"]["type"] == "number"
    assert "default" not in style["properties"]["size"]         # an unset field is not a value
