"""Data sources, parameters, placeholders and per-language number formatting (issue #6)."""
import datetime as dt
import shutil
import sqlite3
import subprocess
import sys

import pytest

import docgen
from docgen.data import Month, coerce, format_value, resolve_params
from docgen.data.placeholders import fill
from docgen.errors import SpecError
from docgen.spec.models import Format, Param
from pdfutil import nows, pypdf_text

from conftest import EXAMPLES, ROOT

SALES = EXAMPLES / "sales-report"
pytest.importorskip("sqlalchemy", reason="SQL sources need SQLAlchemy (pip install 'docgen[sql]')")


def F(**kw):
    return Format(**kw)


# ---- formatting ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, fmt, zh, en", [
    (1234567, F(type="number"), "1,234,567", "1,234,567"),
    (1234567.891, F(type="number", decimals=1), "1,234,567.9", "1,234,567.9"),
    (-9876.5, F(type="number"), "-9,876.50", "-9,876.50"),
    (45678, F(type="number", units=True), "4.57万", "45.68K"),
    (128_000_000, F(type="number", units=True, decimals=2), "1.28亿", "128.00M"),
    (9999, F(type="number", units=True), "9,999", "10.00K"),
    (5725432.1, F(type="currency", units=True), "¥572.54万", "CNY 5.73M"),
    (1234.5, F(type="currency"), "¥1,234.50", "CNY 1,234.50"),
    (-1234.5, F(type="currency", currency="USD"), "-US$1,234.50", "-$1,234.50"),
    (0.2364, F(type="percent"), "23.6%", "23.6%"),
    (dt.date(2026, 11, 3), F(type="date"), "2026年11月3日", "3 Nov 2026"),
    ("2026-11", F(type="month"), "2026年11月", "Nov 2026"),
    (None, F(type="number"), "—", "—"),
])
def test_values_print_per_language(value, fmt, zh, en):
    assert format_value(value, fmt, "zh") == zh
    assert format_value(value, fmt, "en") == en


def test_formatting_rejects_text_that_is_not_a_number():
    with pytest.raises(ValueError, match="not a number"):
        format_value("abc", F(type="currency"), "zh")


# ---- typed values and parameters -----------------------------------------------------------------------
def test_values_are_typed_and_checked():
    assert coerce("42", "int") == 42 and coerce("4.5", "number") == 4.5
    assert coerce("2026-11", "month") == Month(2026, 11) and str(coerce("2026-11", "month")) == "2026-11"
    assert coerce("yes", "bool") is True and coerce("", "int") is None
    for v, kind in [("4.5", "int"), ("abc", "number"), ("2026-13", "month"), ("maybe", "bool"), ("x", "date")]:
        with pytest.raises(ValueError):
            coerce(v, kind)


def test_parameters_typed_defaulted_and_errors_name_the_field():
    declared = {"month": Param(type="month", default="2026-11"), "n": Param(type="int"),
                "kind": Param(choices=["a", "b"], default="a")}
    v = resolve_params(declared, {"n": "3"})
    assert v == {"month": Month(2026, 11), "n": 3, "kind": "a"}
    with pytest.raises(SpecError) as e:
        resolve_params(declared, {"month": "soon", "kind": "c", "extra": 1})
    msgs = [str(p) for p in e.value.problems]
    assert any(m.startswith("params.month: 'soon' is not a month") for m in msgs), msgs
    assert any(m.startswith("params.n: required") for m in msgs), msgs
    assert any(m.startswith("params.kind: c is not one of a, b") for m in msgs), msgs
    assert any(m.startswith("params.extra: not a parameter") for m in msgs), msgs


# ---- placeholders: names only ------------------------------------------------------------------------------
def test_placeholders_are_names_only():
    vals = {"month": Month(2026, 11), "name": "Ann"}
    assert fill("{month:%Y年%-m月} {name} {{literal}}", vals) == "2026年11月 Ann {literal}"
    for bad in ("{name.__class__}", "{name[0]}", "{nope}", "{name!r}", "{0}"):
        with pytest.raises(ValueError):
            fill(bad, vals)


def test_a_placeholder_error_names_the_field():
    spec = {"meta": {"title": "x"}, "params": {"who": {"default": "A"}}, "body": [{"paragraph": "hi {who.x}"}]}
    with pytest.raises(SpecError, match=r"body\.0\.paragraph: \{who\.x\}: only plain parameter names"):
        docgen.render(spec)


# ---- sources -------------------------------------------------------------------------------------------------
def _spec(tmp_path, data, body, params=None):
    return {"meta": {"title": "t"}, "languages": ["zh", "en"], "params": params or {}, "data": data,
            "body": body}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    shutil.copy(SALES / "sales.sqlite", tmp_path / "sales.sqlite")
    (tmp_path / "people.csv").write_text("id,name,score\n1,张三,90.5\n2,Bob,71\n", encoding="utf-8")
    (tmp_path / "items.json").write_text('{"items": [{"k": "a", "v": 1}, {"k": "b", "v": 2}]}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_csv_json_and_sql_sources_fill_tables(folder):
    spec = _spec(folder, {
        "people": {"file": "people.csv", "columns": {"id": "int", "score": "number"}},
        "items": {"file": "items.json", "records": "items"},
        "sales": {"url": "sqlite:///sales.sqlite", "sql": "SELECT SUM(amount) AS amount, COUNT(*) AS n "
                                                          "FROM sales WHERE month = :month"},
    }, [
        {"table": {"source": "people", "columns": ["name", "score"], "format": {"score": {"type": "number",
                                                                                          "decimals": 1}}}},
        {"table": {"source": "items"}},
        {"table": {"source": "sales", "format": {"amount": {"type": "currency", "units": True}}}},
    ], params={"month": {"type": "month", "default": "2026-11"}})
    text = nows("".join(pypdf_text(docgen.render(spec).pdf)))
    for s in ("张三", "90.5", "71.0", "a1b2", "¥2,095.29万", "CNY20.95M", "15"):
        assert nows(s) in text, s


def test_parameters_reach_sql_only_as_bound_values(folder):
    spec = _spec(folder, {"s": {"url": "sqlite:///sales.sqlite",
                                "sql": "SELECT COUNT(*) AS n FROM sales WHERE month = :month"}},
                 [{"table": {"source": "s"}}], params={"month": {"default": "2026-11"}})
    res = docgen.render(spec, params={"month": "x' OR '1'='1"})
    text = nows("".join(pypdf_text(res.pdf)))
    assert "n0" in text            # the quote is data: no row matches; formatted in, it would count all 240


def test_a_failing_query_names_the_source(folder):
    spec = _spec(folder, {"sales": {"url": "sqlite:///sales.sqlite", "sql": "SELECT amountx FROM sales"}}, [])
    with pytest.raises(SpecError, match=r"^data\.sales\.sql: no such column: amountx"):
        docgen.render(spec)


def test_a_missing_column_names_the_source_and_block(folder):
    spec = _spec(folder, {"people": {"file": "people.csv", "columns": {"age": "int"}}}, [])
    with pytest.raises(SpecError, match=r"^data\.people\.columns\.age: no such column in the data"):
        docgen.render(spec)
    spec = _spec(folder, {"people": {"file": "people.csv"}}, [{"table": {"source": "people", "columns": ["age"]}}])
    with pytest.raises(SpecError, match=r"^body\.0\.table\.columns: no column 'age' in data source 'people'"):
        docgen.render(spec)
    spec = _spec(folder, {"people": {"file": "people.csv", "columns": {"score": "int"}}}, [])
    with pytest.raises(SpecError, match=r"^data\.people\.columns\.score: row 1: '90.5' is not a whole number"):
        docgen.render(spec)


def test_unknown_source_parameter_and_paths_outside_the_folder(folder):
    with pytest.raises(SpecError, match=r"^body\.0\.table\.source: no data source 'nope'"):
        docgen.render(_spec(folder, {}, [{"table": {"source": "nope"}}]))
    with pytest.raises(SpecError, match=r"^data\.s\.sql: the query uses :who, which is not a parameter"):
        docgen.render(_spec(folder, {"s": {"url": "sqlite:///sales.sqlite", "sql": "SELECT :who AS w"}}, []))
    with pytest.raises(SpecError, match=r"^data\.s\.file: '\.\./x\.csv' is outside the spec's folder"):
        docgen.render(_spec(folder, {"s": {"file": "../x.csv"}}, []))
    with pytest.raises(SpecError, match=r"^data\.s\.url: file not found: missing\.sqlite"):
        docgen.render(_spec(folder, {"s": {"url": "sqlite:///missing.sqlite", "sql": "SELECT 1"}}, []))
    assert not (folder / "missing.sqlite").exists()


def test_sqlite_sources_are_opened_read_only(folder):
    spec = _spec(folder, {"s": {"url": "sqlite:///sales.sqlite", "sql": "DELETE FROM sales RETURNING month"}}, [])
    with pytest.raises(SpecError, match=r"^data\.s\.sql: a data query may only read; this one tried DELETE sales"):
        docgen.render(spec)
    assert sqlite3.connect(folder / "sales.sqlite").execute("SELECT COUNT(*) FROM sales").fetchone()[0] == 240


def test_spec_validation_of_sources_and_blocks():
    from docgen.spec import validate
    with pytest.raises(SpecError) as e:
        validate({"meta": {"title": "t"}, "data": {"a": {"file": "x.txt"}, "b": {"sql": "SELECT 1"}},
                  "body": [{"table": {"source": "a", "columns": ["x"], "format": {"y": "number"}}},
                           {"chart": {"type": "pie", "source": "a", "x": "k", "y": ["v", "w"]}}]})
    msgs = [str(p) for p in e.value.problems]
    assert "data.a: file must be .csv, .json, .yaml or .yml" in msgs
    assert "data.b: an sql source needs url (e.g. sqlite:///data.sqlite)" in msgs
    assert "body.0.table: format: 'y' is not one of columns ['x']" in msgs
    assert "body.1.chart: a pie chart has one value column" in msgs


# ---- the example --------------------------------------------------------------------------------------------
def test_sales_report_example_renders_a_month_from_sqlite_and_csv():
    res = docgen.render(SALES / "sales-report.yaml", params={"month": "2026-10"})
    text = nows("".join(pypdf_text(res.pdf)))
    for s in ("2026年10月销售月报", "Salesreport,October2026", "华东East", "陈静", "¥", "万", "CNY", "%",
              "各区域销售额", "Revenueagainsttarget", "2026年5月", "2026年10月"):
        assert s in text, s
    assert "2026年11月" not in text        # the six months up to October only


def test_the_example_data_script_is_deterministic(tmp_path):
    sys.path.insert(0, str(SALES))
    try:
        import make_data
        p = make_data.build(tmp_path / "s.sqlite")
    finally:
        sys.path.remove(str(SALES))
    assert p.read_bytes() == (SALES / "sales.sqlite").read_bytes()


def test_cli_render_with_params(tmp_path):
    out = tmp_path / "r.pdf"
    run = subprocess.run([sys.executable, "-m", "docgen", "render", str(SALES / "sales-report.yaml"), "-o", str(out),
                          "--param", "month=2026-09", "--backend", "draft"], capture_output=True, text=True,
                         cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "2026年9月销售月报" in nows("".join(pypdf_text(out.read_bytes())))
    bad = subprocess.run([sys.executable, "-m", "docgen", "render", str(SALES / "sales-report.yaml"), "-o",
                          str(out), "--param", "month=someday"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "params.month: 'someday' is not a month" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_import_docgen_stays_light():
    code = ("import sys, docgen, docgen.batch, docgen.data\n"
            "heavy = [m for m in ('sqlalchemy', 'apscheduler', 'ray', 'torch') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
