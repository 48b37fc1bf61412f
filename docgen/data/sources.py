"""Data sources: a spec's ``data:`` entry and the parameter values in, a :class:`Dataset` (typed rows) out.

Files (CSV with a header row, JSON or YAML holding a list of records) are read from inside the spec's
folder.  SQL queries run through SQLAlchemy (``pip install 'docgen[sql]'``); SQLite files named by a
relative ``sqlite:///`` URL are opened read-only from the spec's folder, on a fresh connection per query,
with an authorizer that lets a query read and nothing else (no ATTACH, no VACUUM INTO, no writes, no
pragma settings, no extensions); other databases need their driver installed, get a fresh connection
(no pool shared between specs) and a read-only transaction where the dialect offers one.  Parameters reach a query only as bound parameters (``:month``), never by formatting
text.  Every problem is a :class:`SpecError` naming the source (``data.sales.sql: no such column: amount``).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DocgenError, Problem, SpecError
from ..spec import limits
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
    if "\0" in rel:
        raise SpecError(Problem(where, "a file name must not contain a NUL character"))
    try:
        p = (root / rel).resolve()
        if not p.is_relative_to(root.resolve()):
            raise SpecError(Problem(where, f"{rel!r} is outside the spec's folder; {what} must live inside it"))
        if not p.is_file():
            raise SpecError(Problem(where, f"file not found: {rel}"))
    except OSError as e:           # a name the system refuses (too long, a component over its limit …)
        raise SpecError(Problem(where, f"cannot use the file name {rel[:80]!r}{'…' if len(rel) > 80 else ''}: "
                                       f"{e.strerror or e}")) from None
    return p


def sqlite_file(url: str, root: Path, where: str) -> Path | None:
    """The database file of a SQLite URL (any driver: ``sqlite``, ``sqlite+pysqlite`` …), which must be a
    relative path inside the spec's folder; None for other databases.  SQLite URI filenames
    (``sqlite:///file:x.db?mode=rwc``, ``file::memory:``), URL options and in-memory databases are
    refused: docgen opens the file itself, read-only."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0].lower() != "sqlite":
        return None
    rel = rest[1:] if rest.startswith("/") else rest           # sqlite:///rel -> "rel"; sqlite:////abs -> "/abs"
    if rel.startswith("file:"):
        raise SpecError(Problem(where, f"{url!r}: SQLite URI filenames (file:…) are not allowed; name the "
                                       "database file, e.g. sqlite:///sales.sqlite"))
    if "?" in rel:
        raise SpecError(Problem(where, f"{url!r}: options in a SQLite URL are not allowed (docgen opens the "
                                       "file read-only itself)"))
    if rel in ("", ":memory:"):
        raise SpecError(Problem(where, f"{url!r}: an in-memory SQLite database holds no data; name the "
                                       "database file, e.g. sqlite:///sales.sqlite"))
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
        try:
            for i, r in enumerate(reader, start=2):
                if None in r:
                    raise SpecError(Problem(where, f"{label}:{i}: more cells than header columns"))
                rows.append(dict(r))
        except csv.Error as e:                # e.g. a field over csv.field_size_limit() (131,072 bytes)
            raise SpecError(Problem(where, f"{label}:{reader.line_num}: not valid CSV: {e}")) from None
        return columns, rows
    if suffix == ".json":
        try:
            return None, json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(Problem(where, f"{label}:{e.lineno}: not valid JSON: {e.msg}")) from None
        except RecursionError:
            raise SpecError(Problem(where, f"{label}: the JSON is nested too deeply")) from None
        except ValueError as e:               # a number of more than sys.get_int_max_str_digits() digits
            raise SpecError(Problem(where, f"{label}: not valid JSON: {str(e).split(';')[0]}")) from None
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


class _ReadOnlyAuthorizer:
    """A SQLite authorizer that lets a statement read and nothing else, remembering what it refused.

    ``mode=ro`` alone is not enough: ``VACUUM INTO '/elsewhere/x'`` writes a new file from a read-only
    database (it attaches the file first, which this refuses), and ATTACH would open any file the
    process can read."""

    def __init__(self):
        import sqlite3
        self.denied: str | None = None
        self._ok, self._deny = sqlite3.SQLITE_OK, sqlite3.SQLITE_DENY
        self._reading = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE,
                         sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT}   # BEGIN/COMMIT change nothing
        self._function, self._pragma = sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_PRAGMA
        self._names = {getattr(sqlite3, f"SQLITE_{n}"): n.replace("_", " ") for n in _SQLITE_ACTIONS
                       if hasattr(sqlite3, f"SQLITE_{n}")}

    def __call__(self, action, arg1, arg2, db_name, trigger):
        if action in self._reading:
            return self._ok
        if action == self._function:
            if (arg2 or "").lower() not in _SQLITE_DENIED_FUNCTIONS:
                return self._ok
            what = f"the function {arg2}()"
        elif action == self._pragma:
            name = (arg1 or "").lower()
            if name in _SQLITE_INFO_PRAGMAS or (arg2 is None and name in _SQLITE_READ_PRAGMAS):
                return self._ok
            what = f"PRAGMA {arg1}" + ("" if arg2 is None else f" = {arg2}")
        else:                                       # ATTACH, DETACH, writes, DDL, ANALYZE, REINDEX …
            what = self._names.get(action, f"action {action}") + (f" {arg1}" if arg1 else "")
        if self.denied is None:
            self.denied = what
        return self._deny


# authorizer action codes by name (sqlite3 mixes them with result codes of the same values)
_SQLITE_ACTIONS = ("CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE", "CREATE_TEMP_TRIGGER",
                   "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW", "DELETE", "DROP_INDEX", "DROP_TABLE",
                   "DROP_TEMP_INDEX", "DROP_TEMP_TABLE", "DROP_TEMP_TRIGGER", "DROP_TEMP_VIEW", "DROP_TRIGGER",
                   "DROP_VIEW", "INSERT", "UPDATE", "ATTACH", "DETACH", "ALTER_TABLE", "REINDEX", "ANALYZE",
                   "CREATE_VTABLE", "DROP_VTABLE")
# functions that reach outside the database (load_extension is also off unless enabled)
_SQLITE_DENIED_FUNCTIONS = {"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"}
# pragmas whose argument is a name to describe, never a setting
_SQLITE_INFO_PRAGMAS = {"table_info", "table_xinfo", "index_info", "index_xinfo", "index_list",
                        "foreign_key_list", "table_list"}
# pragmas that may be read (without an argument; with one they would set)
_SQLITE_READ_PRAGMAS = {"read_uncommitted", "user_version", "schema_version", "application_id", "encoding",
                        "page_size", "page_count", "freelist_count", "data_version", "compile_options",
                        "collation_list", "function_list", "pragma_list", "database_list", "foreign_keys",
                        "case_sensitive_like", "query_only"}


def _sqlite_engine(db: Path, authorizer: _ReadOnlyAuthorizer):
    """An engine for one query on the SQLite file ``db``: opened read-only, guarded by ``authorizer``,
    never pooled (a spec must not see another spec's connection state)."""
    import sqlite3
    from urllib.parse import quote

    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    uri = f"file:{quote(str(db))}?mode=ro"

    def connect():
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        if hasattr(conn, "setlimit"):               # Python 3.11+: no ATTACH even if the authorizer missed one
            conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        conn.set_authorizer(authorizer)
        return conn

    return create_engine("sqlite://", creator=connect, poolclass=NullPool)


def _engine(url: str):
    # a fresh engine per query, without a pool: connections (and what a query did to them) are never
    # shared between specs; a batch pays one connect per query, which is small next to a render
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool
    return create_engine(url, poolclass=NullPool)


# dialects whose connections can be put in a read-only transaction (an execution option)
_READ_ONLY_OPTIONS = {"postgresql": {"postgresql_readonly": True}}


def _query(src: DataSource, root: Path, params: dict[str, Any], where: str) -> tuple[list[str], list[dict]]:
    try:
        from sqlalchemy import exc, text
    except ImportError:
        raise DocgenError(f"{where}: SQL sources need SQLAlchemy (pip install 'docgen[sql]')") from None
    url = src.url or ""
    db = sqlite_file(url, root, f"{where}.url")
    stmt = text(src.sql)
    wanted = list(stmt.compile().params)
    unknown = [n for n in wanted if n not in params]
    if unknown:
        raise SpecError(Problem(f"{where}.sql", f"the query uses :{unknown[0]}, which is not a parameter "
                                                f"(params: {', '.join(params) or 'none'})"))
    bound = {n: plain(params[n]) for n in wanted}
    engine = None
    guard = _ReadOnlyAuthorizer() if db is not None else None
    try:
        engine = _sqlite_engine(db, guard) if db is not None else _engine(url)
        with engine.connect() as conn:
            options = _READ_ONLY_OPTIONS.get(engine.dialect.name)
            if options:
                conn = conn.execution_options(**options)
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
        if guard is not None and guard.denied is not None:
            raise SpecError(Problem(f"{where}.sql", f"a data query may only read; this one tried "
                                                    f"{guard.denied}")) from None
        msg = str(e.orig) if e.orig is not None else str(e)
        raise SpecError(Problem(f"{where}.sql", msg.strip().splitlines()[0])) from None
    except exc.SQLAlchemyError as e:
        raise SpecError(Problem(f"{where}.sql", str(e).splitlines()[0])) from None
    finally:
        if engine is not None:
            engine.dispose()
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
    if len(rows) > limits.TABLE_ROWS:
        raise SpecError(Problem(where, f"{len(rows):,} rows is over the limit of {limits.TABLE_ROWS:,}"))
    for i, r in enumerate(rows, start=1):         # data is printed: the same rules as the spec's own text
        for col, v in r.items():
            why = limits.text_problem(v) if isinstance(v, str) else None
            if why:
                raise SpecError(Problem(where, f"row {i}, column {col!r}: {why}"))
    return Dataset(name, columns, rows)
