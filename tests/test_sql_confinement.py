"""Spec SQL can read its own database and do nothing else: no writes, no files, nothing shared."""
import shutil
import sqlite3

import pytest

import docgen
from docgen.errors import SpecError
from pdfutil import nows, pypdf_text

from conftest import EXAMPLES

SALES = EXAMPLES / "sales-report" / "sales.sqlite"


def _spec(sql: str, url: str = "sqlite:///sales.sqlite") -> dict:
    return {"meta": {"title": "t"}, "languages": ["en"], "data": {"s": {"url": url, "sql": sql}},
            "body": [{"table": {"source": "s"}}]}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    shutil.copy(SALES, tmp_path / "sales.sqlite")
    monkeypatch.chdir(tmp_path)          # a dict spec's folder is the working directory
    return tmp_path


def _refused(spec, match=r"^data\.s\.sql: a data query may only read"):
    with pytest.raises(SpecError, match=match) as e:
        docgen.render(spec)
    return str(e.value)


def _rows(folder) -> int:
    return sqlite3.connect(folder / "sales.sqlite").execute("SELECT COUNT(*) FROM sales").fetchone()[0]


def test_vacuum_into_is_refused_and_writes_no_file(folder, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "copy.sqlite"
    msg = _refused(_spec(f"VACUUM INTO '{elsewhere}'"))
    assert "ATTACH" in msg
    assert not elsewhere.exists()
    assert not (folder / "copy.sqlite").exists()


def test_attach_is_refused(folder):
    other = folder / "other.sqlite"
    sqlite3.connect(other).executescript("CREATE TABLE secret(x); INSERT INTO secret VALUES (42);")
    assert "ATTACH" in _refused(_spec(f"ATTACH DATABASE '{other}' AS o"))


def test_writes_and_schema_changes_are_refused(folder):
    assert "INSERT sales" in _refused(_spec("INSERT INTO sales (month) VALUES ('2030-01') RETURNING month"))
    assert "UPDATE sales" in _refused(_spec("UPDATE sales SET amount = 0 RETURNING month"))
    _refused(_spec("CREATE TABLE t AS SELECT 1 AS a"))
    _refused(_spec("DROP TABLE sales"))
    assert _rows(folder) == 240


def test_pragma_settings_and_extensions_are_refused(folder):
    assert "PRAGMA journal_mode = wal" in _refused(_spec("PRAGMA journal_mode = wal"))
    assert "load_extension" in _refused(_spec("SELECT load_extension('/tmp/x.so') AS a"))


def test_reading_still_works_including_pragma_reads(folder):
    res = docgen.render(_spec("SELECT COUNT(*) AS n FROM sales"))
    assert "n240" in nows("".join(pypdf_text(res.pdf)))
    res = docgen.render(_spec("PRAGMA table_info(sales)"))
    assert "amount" in "".join(pypdf_text(res.pdf))


@pytest.mark.parametrize("url", ["sqlite:///file:sales.sqlite?mode=rwc", "sqlite:///file:sales.sqlite",
                                 "sqlite:///file::memory:?cache=shared", "sqlite:///sales.sqlite?mode=rwc",
                                 "sqlite://", "sqlite:///:memory:"])
def test_uri_filenames_options_and_memory_databases_are_refused(folder, url):
    with pytest.raises(SpecError) as e:
        docgen.render(_spec("SELECT 1 AS a", url=url))
    assert e.value.problems[0].path == "data.s.url"


def test_a_spec_cannot_see_what_another_spec_attached(folder):
    other = folder / "other.sqlite"
    sqlite3.connect(other).executescript("CREATE TABLE secret(x); INSERT INTO secret VALUES (42);")
    _refused(_spec(f"ATTACH DATABASE '{other}' AS o"))
    # even a connection left over from an earlier query would not carry the attachment: none is pooled
    with pytest.raises(SpecError, match=r"^data\.s\.sql: no such table: o\.secret"):
        docgen.render(_spec("SELECT x FROM o.secret"))
