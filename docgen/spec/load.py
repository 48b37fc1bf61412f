"""Loading a spec: YAML text or a dict in, a validated :class:`Document` out, or a :class:`SpecError`.

YAML is loaded safely: standard tags only, no aliases or merge keys, duplicate keys rejected.  Plain
scalars mean what YAML 1.2 (core schema) says, not PyYAML's YAML 1.1: ``9:30``, ``16:9`` and ``No`` are
strings, ``0755`` is the decimal 755 (dates such as ``2026-11-20`` are still read as dates), and a number remembers how it was written, so a
text field shows ``1.10`` or ``0755`` as typed.  Every node's line is remembered, so a validation problem is reported as ``guide.yaml:14 body.3.generate.aspect:
expected one of …``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import Problem, SpecError
from .models import BLOCK_KINDS, LANGS, VALUES_ERROR, Document, Localized

Pos = dict[tuple, int]   # field path -> 1-based line


class SourceInt(int):
    """An int read from YAML that remembers its source text (``0755``, ``0x1F``, ``+5``)."""
    source: str


class SourceFloat(float):
    """A float read from YAML that remembers its source text (``1.10``, ``1e3``, ``.inf``)."""
    source: str


def _with_source(cls, value, text: str):
    out = cls(value)
    out.source = text
    return out


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            ev = self.peek_event()
            raise yaml.MarkedYAMLError(None, None, "aliases (*name) are not allowed in a docgen spec",
                                       ev.start_mark)
        return yaml.composer.Composer.compose_node(self, parent, index)

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node)
        t = text
        sign, digits = (-1, t[1:]) if t.startswith("-") else (1, t[1:] if t.startswith("+") else t)
        if digits[:2] in ("0o", "0O"):
            value = int(digits[2:], 8)
        elif digits[:2] in ("0x", "0X"):
            value = int(digits[2:], 16)
        else:
            value = int(digits, 10)             # YAML 1.2: 0755 is seven hundred and fifty-five
        return _with_source(SourceInt, sign * value, text)

    def construct_yaml_float(self, node):
        text = self.construct_scalar(node)
        t = text.lower()
        if t.lstrip("+-") == ".inf":
            value = float("-inf") if t.startswith("-") else float("inf")
        elif t == ".nan":
            value = float("nan")
        else:
            value = float(t)
        return _with_source(SourceFloat, value, text)

    def construct_yaml_bool(self, node):
        return self.construct_scalar(node).lower() == "true"


# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution), in place of PyYAML's 1.1
# resolvers: no sexagesimal 9:30 = 570, no yes/no/on/off booleans, no 0755 octal.  Timestamps are the
# one YAML 1.1 type kept: meta.date and data files' dates are written unquoted, and a bad date
# (2026-13-45) is reported at its line.
_INT = "tag:yaml.org,2002:int"
_CORE = (
    ("tag:yaml.org,2002:null", r"^(?:null|Null|NULL|~|)$", ["n", "N", "~", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    ("tag:yaml.org,2002:float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                                r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", list("-+.0123456789")),
    ("tag:yaml.org,2002:merge", r"^<<$", ["<"]),        # recognised only to be refused (_build)
)
_TIMESTAMP = next((r, first) for first, rs in yaml.SafeLoader.yaml_implicit_resolvers.items()
                  for t, r in rs if t == "tag:yaml.org,2002:timestamp")
_Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in _CORE:
    _Loader.add_implicit_resolver(_tag, re.compile(_regexp), _first)
_Loader.add_implicit_resolver("tag:yaml.org,2002:timestamp", _TIMESTAMP[0], list("0123456789"))
_Loader.add_constructor(_INT, _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)
_Loader.add_constructor("tag:yaml.org,2002:bool", _Loader.construct_yaml_bool)


_FastLoader: Any = None        # PyYAML built without libyaml: its own parser only
if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class _FastLibyamlLoader(yaml.composer.Composer, CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """The same loader with libyaml scanning and parsing (~7x faster on a spec): the events come from C,
        the nodes are composed (aliases refused) and constructed by the Python code above."""

        compose_node = _Loader.compose_node
        construct_yaml_int = _Loader.construct_yaml_int
        construct_yaml_float = _Loader.construct_yaml_float
        construct_yaml_bool = _Loader.construct_yaml_bool
        yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
        yaml_constructors = _Loader.yaml_constructors

        def __init__(self, text: str):
            CParser.__init__(self, text)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            yaml.composer.Composer.__init__(self)

    _FastLoader = _FastLibyamlLoader


def _loader(text: str):
    """A loader for ``text``: libyaml's parser where PyYAML has it, after the check PyYAML's own reader makes
    (a character YAML does not allow, as a ReaderError); PyYAML's parser for a text with U+FEFF past its
    start, which libyaml refuses where PyYAML reads it as a character."""
    if _FastLoader is None or "\ufeff" in text[1:]:
        return _Loader(text)
    m = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if m:
        raise yaml.reader.ReaderError("<unicode string>", m.start(), ord(m.group()), "unicode",
                                      "special characters are not allowed")
    return _FastLoader(text.removeprefix("\ufeff"))


_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")}


def _build(loader: _Loader, node: yaml.Node, path: tuple, pos: Pos) -> Any:
    pos[path] = node.start_mark.line + 1
    if node.tag not in _PLAIN_TAGS:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise yaml.MarkedYAMLError(None, None, f"tag {tag} is not allowed in a docgen spec", node.start_mark)
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for k_node, v_node in node.value:
            if k_node.tag == "tag:yaml.org,2002:merge":
                raise yaml.MarkedYAMLError(None, None, "merge keys (<<) are not allowed", k_node.start_mark)
            if not isinstance(k_node, yaml.ScalarNode):
                raise yaml.MarkedYAMLError(None, None, "mapping keys must be plain values", k_node.start_mark)
            key = loader.construct_object(k_node, deep=True)
            if isinstance(key, (list, dict)) or key is None:
                raise yaml.MarkedYAMLError(None, None, "mapping keys must be plain values", k_node.start_mark)
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                key = getattr(key, "source", None) or str(key)
            elif isinstance(key, int):
                key = int(key)
            if key in out:
                raise yaml.MarkedYAMLError(None, None, f"duplicate key {key!r}", k_node.start_mark)
            out[key] = _build(loader, v_node, path + (str(key),), pos)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, v, path + (str(i),), pos) for i, v in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError) as e:      # e.g. a date like 2026-13-45
        raise yaml.MarkedYAMLError(None, None, f"cannot read {node.value!r}: {e}", node.start_mark) from None


def parse_yaml(text: str, filename: str = "<string>") -> tuple[Any, Pos]:
    """YAML text -> (plain data, positions).  Raises SpecError with file:line on malformed YAML."""
    try:
        loader = _loader(text)
    except yaml.reader.ReaderError as e:      # a character YAML does not allow (checked before parsing)
        at = text.count("\n", 0, max(e.position, 0)) + 1
        raise SpecError(Problem("", f"character U+{e.character:04X} is not allowed in YAML text",
                                filename, at)) from None
    pos: Pos = {}
    try:
        try:
            data = _compose(loader, pos)
        except yaml.YAMLError:
            if type(loader) is _Loader:
                raise
            # what libyaml refuses, PyYAML's own parser reads again: its message, or a reading libyaml does
            # not give (an escape such as \ud800, which the text checks then report at its field)
            pos.clear()
            data = _compose(_Loader(text), pos)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        msg = e.problem or str(e)
        raise SpecError(Problem("", msg, filename, line)) from None
    except yaml.YAMLError as e:
        raise SpecError(Problem("", f"not valid YAML: {e}", filename)) from None
    except RecursionError:
        raise SpecError(Problem("", "the YAML is nested too deeply", filename)) from None
    return data, pos


def _compose(loader, pos: Pos) -> Any:
    try:
        node = loader.get_single_node()
        return _build(loader, node, (), pos) if node is not None else None
    finally:
        loader.dispose()


# ---- turning pydantic errors into problems users can act on -------------------------------------------
_INTERNAL = re.compile(r"^(str|int|float|bool|none|list\[.*\]|dict\[.*\]|tuple\[.*\]|function-\w+\[.*\]|"
                       r"union\[.*\]|literal\[.*\]|date|[A-Z]\w*)$")


def _clean_loc(loc: tuple) -> tuple[str, ...]:
    out: list[str] = []
    for part in loc:
        p = str(part)
        if _INTERNAL.match(p):
            continue
        if out and out[-1] == p and p in BLOCK_KINDS:
            continue          # the discriminator tag repeats the block's key
        out.append(p)
    return tuple(out)


def _message(err: dict) -> str:
    msg = err["msg"]
    if err["type"] == "literal_error":
        exp = err.get("ctx", {}).get("expected", "")
        return "expected one of " + exp.replace("'", "").replace(" or ", ", ")
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "required field is missing"
    msg = re.sub(r"^Value error, ", "", msg)
    msg = re.sub(r"^Input should be", "expected", msg)
    return msg


def line_of(pos: Pos | None, path: tuple) -> int | None:
    """The YAML line of a field path: its own, else its nearest ancestor's (a missing field)."""
    if pos is None:
        return None
    for k in range(len(path), -1, -1):
        if path[:k] in pos:
            return pos[path[:k]]
    return None


def problems_from(exc: ValidationError, pos: Pos | None = None, filename: str | None = None) -> list[Problem]:
    errors = exc.errors(include_url=False)
    cleaned = [(_clean_loc(e["loc"]), e) for e in errors]
    # A text field accepts a string or {zh, en}: when a mapping was given, its "expected a string" error is noise.
    paths = [c for c, _ in cleaned]
    probs: list[Problem] = []
    seen = set()
    for loc, e in cleaned:
        if e["type"] == VALUES_ERROR:         # Document._safe_values: many problems, each with its path
            for item in e["ctx"]["problems"].split("\n"):
                where, _, msg = item.partition("\t")
                path = loc + tuple(where.split(".")) if where else loc
                probs.append(Problem(".".join(path), msg, filename, line_of(pos, path)))
            continue
        if e["type"] in ("string_type", "model_type", "model_attributes_type", "list_type") and any(
                p != loc and p[:len(loc)] == loc for p in paths):
            continue
        if e["type"] == "string_type" and isinstance(e.get("input"), dict) and paths.count(loc) > 1:
            continue
        msg = _message(e)
        kinds = {x["type"] for lc, x in cleaned if lc == loc}
        if {"string_type", "model_type"} <= kinds or {"string_type", "model_attributes_type"} <= kinds:
            msg = "expected text, or text per language {zh: …, en: …}"
        if (loc, msg) in seen:
            continue
        seen.add((loc, msg))
        probs.append(Problem(".".join(loc), msg, filename, line_of(pos, loc)))
    return probs


def _check_translations(doc: Document, pos: Pos | None, filename: str | None) -> list[Problem]:
    """Every localized text carries each document language (plain strings serve all)."""
    if len(doc.languages) < 2 and doc.mode in LANGS:
        need = [doc.mode]
    else:
        need = list(doc.languages) if doc.mode in ("parallel", "stacked") else [doc.mode]
    probs: list[Problem] = []

    def walk(v, path):
        if path[-2:] == ("generate", "text"):
            return            # text painted into a picture may be in one language only
        if isinstance(v, Localized):
            for lang in need:
                if v.get(lang) is None:
                    probs.append(Problem(".".join(path), f"missing the {lang} text (languages: {doc.languages})",
                                         filename, line_of(pos, path)))
        elif hasattr(type(v), "model_fields"):
            for name in type(v).model_fields:
                if name == "theme":
                    continue
                walk(getattr(v, name), path + (name,))
        elif isinstance(v, (list, tuple)):
            for i, x in enumerate(v):
                walk(x, path + (str(i),))

    walk(doc, ())
    return probs


def validate(data: Any, pos: Pos | None = None, filename: str | None = None) -> Document:
    """Plain data -> Document, or SpecError listing every problem with its path (and file:line)."""
    if not isinstance(data, dict):
        raise SpecError(Problem("", "a docgen spec is a mapping (layout:, meta:, body: …)", filename,
                                1 if filename else None))
    try:
        doc = Document.model_validate(data)
    except ValidationError as e:
        raise SpecError(problems_from(e, pos, filename)) from None
    probs = _check_translations(doc, pos, filename)
    if probs:
        raise SpecError(probs)
    return doc


def check_translations(doc: Document) -> None:
    """A Document built in Python (not through :func:`validate`): SpecError for missing translations."""
    probs = _check_translations(doc, None, None)
    if probs:
        raise SpecError(probs)


def load_file(path: str | Path) -> Document:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(Problem("", "file not found", str(path))) from None
    except UnicodeDecodeError:
        raise SpecError(Problem("", "not UTF-8 text", str(path))) from None
    except OSError as e:
        raise SpecError(Problem("", f"cannot read: {e.strerror}", str(path))) from None
    return load_text(text, str(path))


def load_text(text: str, filename: str = "<stdin>") -> Document:
    """YAML text -> Document; problems name ``filename`` and the line."""
    data, pos = parse_yaml(text, filename)
    doc = validate(data, pos, filename)
    doc._source = (filename, pos)
    return doc


def locate(err: SpecError, source) -> SpecError:
    """``err`` with file:line added to problems found after loading (assets, data, theme overrides)."""
    if not source:
        return err
    file, pos = source
    return SpecError([p if p.file else Problem(p.path, p.message, file, line_of(pos, tuple(p.path.split(".")))
                      if p.path else None) for p in err.problems])
