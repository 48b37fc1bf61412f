"""One schema, one validation: the JSON Schemas come from the models that validate, accept every shipped
example, refuse a bad one, and the copies in docs/schema/ (which the examples' modelines name) are current."""
import json
from pathlib import Path

import pytest

from docgen.cli import json_schema
from docgen.spec.load import parse_yaml

from conftest import EXAMPLES, ROOT

jsonschema = pytest.importorskip("jsonschema")

SPECS = sorted(p for p in EXAMPLES.rglob("*.yaml") if p.name != "jobs.yaml")
LAYOUT_THEMES = sorted((ROOT / "layouts").glob("*/theme.yaml"))


def as_json(path: Path):
    data, _ = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    return json.loads(json.dumps(data, default=str))          # what an editor sees: dates as text


def validator(kind):
    return jsonschema.Draft202012Validator(json_schema(kind), format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_example_spec_is_valid_under_the_schema(path):
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator("spec").iter_errors(as_json(path))]
    assert not errors, "\n".join(errors)


def test_the_jobs_file_and_the_themes_are_valid_under_theirs():
    assert not list(validator("jobs").iter_errors(as_json(EXAMPLES / "sales-report" / "jobs.yaml")))
    for theme in LAYOUT_THEMES:
        assert not list(validator("theme").iter_errors(as_json(theme))), theme


@pytest.mark.parametrize("bad", [
    {"meta": {"title": "t"}, "body": [{"heading": {"zh": "x", "level": 9}}]},
    {"meta": {"title": "t"}, "body": [{"table": {"source": "s", "format": {"a": "percentage"}}}]},
    {"meta": {"title": "t"}, "bilingual": "sideways"},
    {"body": []},
])
def test_the_schema_refuses_what_validation_refuses(bad):
    from docgen.errors import SpecError
    from docgen.spec import validate
    assert list(validator("spec").iter_errors(bad))
    with pytest.raises(SpecError):
        validate(bad)


@pytest.mark.parametrize("kind", ["spec", "theme", "jobs"])
def test_the_shipped_schema_files_are_current(kind):
    shipped = json.loads((ROOT / "docs" / "schema" / f"{kind}.schema.json").read_text(encoding="utf-8"))
    assert shipped == json_schema(kind), f"regenerate: docgen schema {'--' + kind if kind != 'spec' else ''}"


@pytest.mark.parametrize("path", SPECS + [EXAMPLES / "sales-report" / "jobs.yaml"], ids=lambda p: p.name)
def test_examples_name_their_schema_for_editors(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    kind = "jobs" if path.name == "jobs.yaml" else "spec"
    assert first.startswith("# yaml-language-server: $schema=")
    target = (path.parent / first.split("$schema=", 1)[1]).resolve()
    assert target == (ROOT / "docs" / "schema" / f"{kind}.schema.json").resolve()
