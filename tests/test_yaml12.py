"""YAML means what YAML 1.2 says: 9:30 is a time of day, 0755 a code, 1.10 a version, No a word."""
import textwrap

import pytest

import docgen
from docgen.errors import SpecError
from docgen.spec.load import load_file, parse_yaml
from pdfutil import nows, pypdf_text


@pytest.mark.parametrize("scalar, value", [
    ("9:30", "9:30"), ("1:05:00", "1:05:00"), ("16:9", "16:9"), ("No", "No"), ("yes", "yes"), ("off", "off"),
    ("0755", 755), ("012345", 12345), ("0x1F", 31), ("0o17", 15), ("-12", -12), ("1.10", 1.1), ("1e3", 1000.0),
    (".inf", float("inf")), ("true", True), ("FALSE", False), ("~", None), ("Null", None), ("", None),
])
def test_plain_scalars_resolve_by_the_core_schema(scalar, value):
    got = parse_yaml(f"v: {scalar}\n")[0]["v"]
    assert got == value and isinstance(got, type(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        assert got.source == scalar


def _spec(tmp_path, body: str, **kw):
    p = tmp_path / "s.yaml"
    p.write_text(textwrap.dedent("""\
        languages: [en]
        meta: {title: Release 1.10}
        body:
        """) + textwrap.indent(textwrap.dedent(body), "  "), encoding="utf-8")
    return p


def test_text_fields_show_scalars_as_written(tmp_path):
    spec = _spec(tmp_path, """\
        - paragraph: 9:30
        - paragraph: 0755
        - paragraph: 1.10
        - paragraph: No
        - table:
            header: [time, mode, version, answer, code]
            rows: [[1:05:00, 012345, 2.50, Off, 0x1F]]
        """)
    text = nows("".join(pypdf_text(docgen.render(spec).pdf)))
    for s in ("9:30", "0755", "1.10", "No", "1:05:00", "012345", "2.50", "Off", "0x1F"):
        assert s in text, s
    for wrong in ("570", "493", "3900", "5349"):
        assert wrong not in text, wrong


def test_numeric_fields_still_get_numbers(tmp_path):
    spec = _spec(tmp_path, """\
        - table: {header: [a, b], rows: [[x, y]], widths: [1.50, 03]}
        """)
    doc = load_file(spec)
    assert doc.body[0].table.widths == [1.5, 3]


def test_an_unquoted_aspect_ratio_is_the_ratio(tmp_path):
    spec = _spec(tmp_path, """\
        - generate: {prompt: a lake, aspect: 16:9}
        """)
    doc = load_file(spec)
    assert doc.body[0].generate.aspect == "16:9"


def test_yaml_safety_is_kept(tmp_path):
    for text, msg in [("a: &x 1\nb: *x\n", "aliases"), ("a: {<<: {b: 1}}\n", "merge keys"),
                      ("a: !!python/object:os.system x\n", "tag"), ("a: 1\na: 2\n", "duplicate key")]:
        with pytest.raises(SpecError, match=msg) as e:
            parse_yaml(text, "t.yaml")
        assert e.value.problems[0].file == "t.yaml" and e.value.problems[0].line is not None
