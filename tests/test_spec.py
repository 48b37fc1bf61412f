"""The spec: what users may write, and the errors they get when they get it wrong."""
import textwrap

import pytest

import docgen
from docgen.errors import SpecError
from docgen.spec import load_file, validate


def write(tmp_path, text, name="doc.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def problems(exc):
    return [str(p) for p in exc.value.problems]


def test_yaml_error_names_file_line_and_field_path(tmp_path):
    p = write(tmp_path, """\
        layout: report
        meta:
          title: {zh: 标题, en: Title}
        body:
          - heading: {zh: 景点, en: Highlights}
          - paragraph: {zh: 西湖, en: West Lake}
          - generate:
              prompt: 断桥
              aspect: "16:8"
        """)
    with pytest.raises(SpecError) as e:
        load_file(p)
    assert problems(e) == [f"{p}:9 body.2.generate.aspect: expected one of 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3"]


@pytest.mark.parametrize("body, where, msg", [
    ("- foo: 1", "body.0", "each body entry is one of"),
    ("- paragraph: {zh: a, fr: b}", "body.0.paragraph.fr", "unknown field"),
    ("- generate: {prompt: x, size: [100, 200]}", "body.0.generate.size", "multiple of 16"),
    ("- generate: {prompt: x, aspect: '1:1', size: [512, 512]}", "body.0.generate", "either aspect or size"),
    ("- table: {header: [a, b], rows: [[1]]}", "body.0.table", "row 0 has 1 cells"),
    ("- table: {header: [a], rows: [[[1, 2]]]}", "body.0.table.rows.0.0", "expected text, or text per language"),
    ("- heading: {zh: 标题, en: Title, level: 7}", "body.0.heading.level", "less than or equal to 3"),
])
def test_each_mistake_is_reported_at_its_field(tmp_path, body, where, msg):
    p = write(tmp_path, "meta: {title: T}\nbody:\n  " + body + "\n")
    with pytest.raises(SpecError) as e:
        load_file(p)
    found = [pr for pr in e.value.problems if pr.path == where]
    assert found, problems(e)
    assert msg in found[0].message
    assert found[0].file == str(p) and found[0].line == 3


def test_missing_translation_is_an_error_for_bilingual_documents(tmp_path):
    p = write(tmp_path, """\
        languages: [zh, en]
        meta: {title: {zh: 标题, en: T}}
        body:
          - paragraph: {zh: 只有中文}
        """)
    with pytest.raises(SpecError) as e:
        load_file(p)
    assert problems(e) == [f"{p}:4 body.0.paragraph: missing the en text (languages: ['zh', 'en'])"]


def test_single_language_document_needs_no_translation():
    doc = validate({"languages": ["zh"], "meta": {"title": {"zh": "标题"}}, "body": [{"paragraph": {"zh": "中文"}}]})
    assert doc.mode == "zh"


def test_plain_string_serves_every_language():
    doc = validate({"meta": {"title": "Qwen-Image"}, "body": [{"paragraph": "20B 模型"}]})
    assert doc.mode == "stacked"


def test_heading_forms():
    doc = validate({"meta": {"title": "t"}, "body": [
        {"heading": "一"}, {"heading": {"zh": "二", "en": "Two", "level": 2}},
        {"heading": {"text": {"zh": "三", "en": "Three"}, "level": 3, "toc": False}}]})
    levels = [b.body.level for b in doc.body]
    assert levels == [1, 2, 3]


@pytest.mark.parametrize("text, msg", [
    ("a: &x 1\nb: *x\n", "aliases"),
    ("meta: {title: a}\nmeta: {title: b}\n", "duplicate key 'meta'"),
    ("meta: !!python/object/apply:os.system ['true']\n", "tag !!python/object/apply:os.system is not allowed"),
    ("meta: !custom {title: x}\n", "tag !custom is not allowed"),
    ("base: &b {title: x}\nmeta:\n  <<: *b\n", "aliases"),
    ("meta: [unclosed\n", "expected ',' or ']'"),
])
def test_yaml_is_loaded_safely(tmp_path, text, msg):
    p = write(tmp_path, text)
    with pytest.raises(SpecError) as e:
        load_file(p)
    assert msg in str(e.value)
    assert e.value.problems[0].file == str(p) and e.value.problems[0].line is not None


def test_bilingual_mode_must_match_languages():
    with pytest.raises(SpecError) as e:
        validate({"languages": ["zh"], "bilingual": "parallel", "meta": {"title": "t"}})
    assert "needs two languages" in str(e.value)


def test_theme_override_errors_name_the_theme_path(tmp_path):
    with pytest.raises(SpecError) as e:
        docgen.render({"meta": {"title": "t"}, "theme": {"styles": {"body": {"size": "huge"}}}})
    assert problems(e)[0].startswith("theme.styles.body.size:")


def test_unknown_layout_lists_installed_ones():
    with pytest.raises(SpecError) as e:
        docgen.render({"layout": "nonesuch", "meta": {"title": "t"}})
    assert "brochure" in str(e.value) and "report" in str(e.value) and "poster" in str(e.value)


def test_json_schema_comes_from_the_models():
    schema = docgen.Document.model_json_schema()
    assert {"layout", "languages", "bilingual", "meta", "body"} <= set(schema["properties"])
