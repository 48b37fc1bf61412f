"""The typesetting package keeps its declared boundaries: extension factories use only the Typesetter's
public surface (typeset/extensions.py), no module imports another's private names, and typesetting does
not import the data stage (chart numbers are formatted by the callable render hands in)."""
from __future__ import annotations

import re
from pathlib import Path

TYPESET = Path(__file__).resolve().parents[1] / "docgen" / "typeset"


def _sources():
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(TYPESET.glob("*.py"))}


def test_extensions_use_only_the_public_surface():
    for name in ("charts.py", "gongwen.py"):
        src = _sources()[name]
        assert not re.findall(r"\bts\._\w+", src), name
        assert "__dict__" not in src, name


def test_no_module_imports_private_names_or_the_data_stage():
    for name, src in _sources().items():
        assert not re.findall(r"^\s*from \.+\w* import .*\b_\w", src, re.M), name
        assert not re.findall(r"^\s*(from|import) (\.\.data|docgen\.data)\b", src, re.M), name
