"""Data sources: a spec's ``data:`` entry and the parameter values in, a :class:`Dataset` (typed rows) out.

Files (CSV with a header row, JSON or YAML holding a list of records) are read from inside the spec's
folder.  SQL queries run through SQLAlchemy (``pip install 'docgen[sql]'``); SQLite files named by a
relative ``sqlite:///`` URL are opened read-only from the spec's folder; other databases need their
driver installed.  Parameters reach a query only as bound parameters (``:month``), never by formatting
text.  Every problem is a :class:`SpecError` naming the source (``data.sales.sql: no such column: amount``).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import DocgenError, Problem, SpecError
from ..spec.models import DataSource
from .values import coerce, plain


@dataclass
class Dataset:
    """A source's rows: column names in order, one dict per row."""

    name: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def column(self, name: str, where: str) -> list[Any]:
        if name not in self.columns:
            raise SpecError(Problem(where, f"no column {name!r} in data source {self.name!r} "
                                           f"(columns: {', '.join(self.columns)})"))
        return [r.get(name) for r in self.rows]


def inside(root: Path, rel: str, where: str, what: str = "data") -> Path:
    """``rel`` resolved against the spec's folder; it must stay inside it and exist."""
    p = (root / rel).resolve()
    if not p.is_relative_to(root.resolve()):
        raise SpecError(Problem(where, f"{rel!r} is outside the spec's folder; {what} must live inside it"))
    if not p.is_file():
        raise SpecError(Problem(where, f"file not found: {rel}"))
    return p


def sqlite_file(url: str, root: Path, where: str) -> Path | None:
    """The database file of a SQLite URL (any driver: ``sqlite``, ``sqlite+pysqlite`` …), which must be a
    relative path inside the spec's folder; None for other databases and for ``:memory:``."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0].lower() != "sqlite":
        return None
    rel = rest[1:] if rest.startswith("/") else rest           # sqlite:///rel -> "rel"; sqlite:////abs -> "/abs"
    rel = rel.split("?", 1)[0]
    if rel.startswith("file:"):
        rel = rel[5:]
    if rel in ("", ":memory:"):
        return None
    if rel.startswith(("/", "~")) or Path(rel).is_absolute():
        raise SpecError(Problem(where, f"{rel!r}: a SQLite database must be a path inside the spec's folder"))
    return inside(root, rel, where)


def files_of(src: DataSource, root: Path, where: str) -> list[Path]:
    """The files a source reads (for change detection); [] for a database that is not a local file."""
    if src.file:
        return [inside(root, src.file, f"{where}.file")]
    f = sqlite_file(src.url or "", root, f"{where}.url")
    return [f] if f else []


def load(name: str, src: DataSource, root: Path, params: dict[str, Any]) -> Dataset:
    where = f"data.{name}"
    if src.file:
        columns, rows = _read_file(src, root, where)
    else:
        columns, rows = _query(src, root, params, where)
    return _typed(name, src, columns, rows, where)


def parse_records(text: str, suffix: str, label: str, where: str):
    """A CSV (header row), JSON or YAML text -> (columns, rows) for CSV, (None, data) otherwise; problems
    are SpecErrors at ``where`` that name ``label`` (the file) and the line."""
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = list(reader.fieldnames or [])
        if not columns:
            raise SpecError(Problem(where, f"{label}: no header row"))
        if len(set(columns)) != len(columns):
            raise SpecError(Problem(where, f"{label}: repeated column names in the header"))
        rows = []
        for i, r in enumerate(reader, start=2):
            if None in r:
                raise SpecError(Problem(where, f"{label}:{i}: more cells than header columns"))
            rows.append(dict(r))
        return columns, rows
    if suffix == ".json":
        try:
            return None, json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(Problem(where, f"{label}:{e.lineno}: not valid JSON: {e.msg}")) from None
    from ..spec.load import parse_yaml
    return None, parse_yaml(text, label)[0]


def _read_file(src: DataSource, root: Path, where: str) -> tuple[list[str], list[dict]]:
    path = inside(root, src.file, f"{where}.file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(Problem(f"{where}.file", f"{src.file}: not UTF-8 text")) from None
    columns, data = parse_records(text, path.suffix.lower(), src.file, f"{where}.file")
    if columns is not None:
        return columns, data
    if src.records:
        if not isinstance(data, dict) or src.records not in data:
            raise SpecError(Problem(f"{where}.records", f"{src.file} has no key {src.records!r}"))
        data = data[src.records]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise SpecError(Problem(f"{where}.file", f"{src.file}: expected a list of records (mappings)"
                                                 + ("" if src.records else "; name the key that holds it "
                                                                              "with records:")))
    columns: list[str] = []
    for r in data:
        for k in r:
            if str(k) not in columns:
                columns.append(str(k))
    return columns, [{str(k): v for k, v in r.items()} for r in data]


@lru_cache(maxsize=16)
def _engine(url: str):
    # one engine (and connection pool) per database per process: a batch reuses it for every document
    from sqlalchemy import create_engine
    return create_engine(url)


def _query(src: DataSource, root: Path, params: dict[str, Any], where: str) -> tuple[list[str], list[dict]]:
    try:
        from sqlalchemy import exc, text
    except ImportError:
        raise DocgenError(f"{where}: SQL sources need SQLAlchemy (pip install 'docgen[sql]')") from None
    url = src.url or ""
    db = sqlite_file(url, root, f"{where}.url")
    if db is not None:
        # read-only: a report never writes to its data (and a typo never creates an empty database)
        url = f"sqlite:///file:{db}?mode=ro&uri=true"
    stmt = text(src.sql)
    wanted = list(stmt.compile().params)
    unknown = [n for n in wanted if n not in params]
    if unknown:
        raise SpecError(Problem(f"{where}.sql", f"the query uses :{unknown[0]}, which is not a parameter "
                                                f"(params: {', '.join(params) or 'none'})"))
    bound = {n: plain(params[n]) for n in wanted}
    try:
        engine = _engine(url)
        with engine.connect() as conn:
            result = conn.execute(stmt, bound)
            columns = list(result.keys())
            rows = [dict(zip(columns, r)) for r in result]
    except exc.NoSuchModuleError:
        scheme = url.split(":", 1)[0]
        raise SpecError(Problem(f"{where}.url", f"no SQLAlchemy dialect for {scheme!r}")) from None
    except ModuleNotFoundError as e:
        raise SpecError(Problem(f"{where}.url", f"the database driver is not installed ({e.name}); "
                                                "install it, e.g. pip install psycopg")) from None
    except exc.ArgumentError as e:
        raise SpecError(Problem(f"{where}.url", f"not a database URL: {e}")) from None
    except exc.DBAPIError as e:
        msg = str(e.orig) if e.orig is not None else str(e)
        raise SpecError(Problem(f"{where}.sql", msg.strip().splitlines()[0])) from None
    except exc.SQLAlchemyError as e:
        raise SpecError(Problem(f"{where}.sql", str(e).splitlines()[0])) from None
    return columns, rows


def _typed(name: str, src: DataSource, columns: list[str], rows: list[dict], where: str) -> Dataset:
    for col in src.columns:
        if col not in columns:
            raise SpecError(Problem(f"{where}.columns.{col}", f"no such column in the data "
                                                              f"(columns: {', '.join(columns)})"))
    if src.columns:
        for i, r in enumerate(rows, start=1):
            for col, kind in src.columns.items():
                try:
                    r[col] = coerce(r.get(col), kind)
                except ValueError as e:
                    raise SpecError(Problem(f"{where}.columns.{col}", f"row {i}: {e}")) from None
    return Dataset(name, columns, rows)
