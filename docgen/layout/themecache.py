"""Parsed layout themes on disk: a ``theme.yaml``'s text in, the data :func:`docgen.spec.load.parse_yaml`
makes of it out, without running the YAML parser (pure Python: ~12-17 ms for a bundled theme) in every
process.  One entry per theme text::

    <cache>/themes/<key>.json

``key``: the sha256 of this module's format, docgen's and PyYAML's versions, the bytes of the loader
module (docgen/spec/load.py: what a scalar means is decided there) and the text.  The entry is data,
never code: JSON with the loader's types tagged — ``{"i": [value, source]}`` an int that remembers how
it was written, ``{"f": [float.hex, source]}`` a float, ``{"d": iso}`` a date, ``{"m": [[key, value], …]}``
a mapping (keys ``["s", str]`` or ``["n", int]``, in order) — sealed (:func:`docgen._io.write_sealed`).
An entry that does not verify or decode is a miss: the text is parsed and the entry written again.  A
theme holding any other type (a timestamp with a time) is not cached.  The layout stage validates what
it gets exactly as it validates a freshly parsed theme.  ``DOCGEN_THEME_CACHE=0`` turns it off.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

FORMAT = 1
MAGIC = b"DGTHEME1\n"


class _Uncacheable(Exception):
    pass


def enabled() -> bool:
    return os.environ.get("DOCGEN_THEME_CACHE", "1") != "0"


def folder() -> Path:
    from docgen._io import user_cache_root

    return user_cache_root() / "themes"


def entry_key(text: str) -> str:
    import yaml

    import docgen
    from docgen.spec import load

    h = hashlib.sha256(repr((FORMAT, getattr(docgen, "__version__", "?"), yaml.__version__)).encode())
    h.update(hashlib.sha256(Path(load.__file__).read_bytes()).digest())
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def encode(v: Any) -> Any:
    from docgen.spec.load import SourceFloat, SourceInt

    if v is None or type(v) in (bool, str):
        return v
    if type(v) is SourceInt:
        return {"i": [str(int(v)), v.source]}
    if type(v) is SourceFloat:
        return {"f": [float(v).hex(), v.source]}
    if type(v) is _dt.date:
        return {"d": v.isoformat()}
    if type(v) is list:
        return [encode(x) for x in v]
    if type(v) is dict:
        items = []
        for k, x in v.items():
            if type(k) is str:
                items.append([["s", k], encode(x)])
            elif type(k) is int:
                items.append([["n", k], encode(x)])
            else:
                raise _Uncacheable(repr(k))
        return {"m": items}
    raise _Uncacheable(type(v).__name__)


def decode(v: Any) -> Any:
    from docgen.spec.load import SourceFloat, SourceInt

    if v is None or type(v) in (bool, str):
        return v
    if type(v) is list:
        return [decode(x) for x in v]
    if type(v) is not dict or len(v) != 1:
        raise ValueError("not an entry")
    ((tag, x),) = v.items()
    if tag == "i":
        return _sourced(SourceInt(int(x[0])), x[1])
    if tag == "f":
        return _sourced(SourceFloat(float.fromhex(x[0])), x[1])
    if tag == "d":
        return _dt.date.fromisoformat(x)
    if tag == "m":
        out = {}
        for (kind, k), val in x:
            if (kind, type(k)) not in (("s", str), ("n", int)):
                raise ValueError("a mapping key")
            out[k] = decode(val)
        return out
    raise ValueError(f"tag {tag!r}")


def _sourced(number, source: Any):
    """A number that remembers its source text, as the loader makes it."""
    if type(source) is not str:
        raise ValueError("not a string")
    number.source = source
    return number


def parsed(text: str, filename: str) -> Any:
    """``parse_yaml(text, filename)[0]``, from the cache when an entry for this text is there (and written
    there when not).  Errors are the parser's, with their file:line (a text that does not parse is not cached)."""
    from docgen._io import read_sealed, write_sealed
    from docgen.spec.load import parse_yaml

    if not enabled():
        return parse_yaml(text, filename)[0]
    try:
        entry = folder() / f"{entry_key(text)}.json"
    except OSError:
        return parse_yaml(text, filename)[0]
    body = read_sealed(entry, MAGIC)
    if body is not None:
        try:
            return decode(json.loads(bytes(body).decode("utf-8")))
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError):
            pass
    data, _ = parse_yaml(text, filename)
    try:
        blob = json.dumps(encode(data), ensure_ascii=True, separators=(",", ":")).encode("ascii")
    except (_Uncacheable, RecursionError):
        return data
    write_sealed(entry, MAGIC, blob)
    return data
