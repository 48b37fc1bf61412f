"""pyphen's parsed hyphenation patterns on disk: the en_US dictionary is read and parsed once, not in every
process.

``pyphen.Pyphen`` parses its ``hyph_*.dic`` file (about 11,000 patterns) when it is made, which is a
tenth of a second of every cold render that sets an English paragraph.  The parsed patterns are kept
here, one entry per dictionary::

    <cache>/hyphenation/<key>.json

``key`` is the sha256 of this module's format, pyphen's version and the dictionary file's size and
sha256 — an edited dictionary or a new pyphen never reads an old entry.  The entry is plain JSON (never
code): behind a magic line and the sha256 of everything after it (:func:`docgen._io.write_sealed`),
the key and each pattern's start offset and weights (one digit each, as pyphen parses them).  An entry
that does not verify or decode is a miss: the dictionary is parsed by pyphen as before and the entry
written again, atomically.  A dictionary with nonstandard hyphenation (``ff=f`` alternatives, which
pyphen keeps as ``DataInt`` objects) is not cached: pyphen itself is used for it.

:class:`Hyphenator` finds the points in the cached patterns as ``pyphen.Pyphen.positions`` does
(tests/test_hyphencache.py checks the two agree).  This module imports nothing heavy: what it reads is
hashed with hashlib and decoded with json, and pyphen's own module (cheap: it only lists its dictionaries)
is imported to find the dictionary file.  ``DOCGEN_HYPHEN_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

FORMAT = 2
MAGIC = b"DGHYPH2\n"


class Hyphenator:
    """``pyphen.Pyphen(lang, left, right).positions`` over patterns already parsed: ``{tag: (start,
    weights)}``, the start offset and the weights (zeros chopped, as pyphen's ``HyphDict.patterns`` holds
    them) as strings of digits, read as numbers only when a pattern matches."""

    def __init__(self, patterns: dict[str, tuple[str, str]], left: int, right: int):
        self.patterns = patterns
        self.left, self.right = left, right
        self.maxlen = max(map(len, patterns))

    def positions(self, word: str) -> list[int]:
        """Offsets in ``word`` where a hyphen may go: the odd weights of the Liang patterns that match
        ``.word.``, at least ``left`` letters from the start and ``right`` from the end."""
        pointed = f".{word.lower()}."
        n = len(pointed)
        weights = [0] * (n + 1)
        get, maxlen = self.patterns.get, self.maxlen
        for i in range(n - 1):
            for j in range(i + 1, min(i + maxlen, n) + 1):
                pattern = get(pointed[i:j])
                if pattern:
                    start, digits = pattern
                    for k, d in enumerate(digits, i + int(start)):
                        if int(d) > weights[k]:
                            weights[k] = int(d)
        last = len(word) - self.right
        return [i - 1 for i, w in enumerate(weights) if w % 2 and self.left <= i - 1 <= last]


def enabled() -> bool:
    return os.environ.get("DOCGEN_HYPHEN_CACHE", "1") != "0"


def folder() -> Path:
    from docgen._io import user_cache_root

    return user_cache_root() / "hyphenation"


def hyphenator(lang: str, left: int, right: int):
    """An object with pyphen's ``positions(word)`` for ``lang``: a :class:`Hyphenator` over the cached
    patterns when a verified entry for this dictionary is there, else ``pyphen.Pyphen`` itself (its
    patterns then written to the cache for the next process)."""
    import pyphen

    if not enabled():
        return pyphen.Pyphen(lang=lang, left=left, right=right)
    path = pyphen.LANGUAGES[pyphen.language_fallback(lang)]
    try:
        data = path.read_bytes()
    except OSError:
        return pyphen.Pyphen(lang=lang, left=left, right=right)  # pyphen's own error for the file
    key = entry_key(data, pyphen.__version__)
    entry = folder() / f"{key}.json"
    patterns = _read(entry, key)
    if patterns is not None:
        return Hyphenator(patterns, left, right)
    hyph = pyphen.Pyphen(lang=lang, left=left, right=right)
    _write(entry, key, hyph.hd.patterns)
    return hyph


def entry_key(data: bytes, pyphen_version: str) -> str:
    parts = {
        "format": FORMAT,
        "pyphen": pyphen_version,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("ascii")).hexdigest()


def _encode(patterns: dict) -> str | None:
    """The patterns as one string, ``tag start weights`` for each, the weights a string of digits; or
    None when a pattern holds anything else (pyphen's ``DataInt`` of a nonstandard hyphenation) or a tag
    holds a space."""
    out = []
    for tag, (start, values) in patterns.items():
        if (
            type(start) is not int
            or not 0 <= start
            or not all(type(v) is int and 0 <= v <= 9 for v in values)
            or not tag
            or any(c.isspace() for c in tag)
        ):
            return None
        out.append(f"{tag} {start} {''.join(map(str, values))}")
    return " ".join(out)


def _write(entry: Path, key: str, patterns: dict) -> None:
    """Write the entry; patterns this format cannot hold, or a cache folder that cannot be written, are
    not an error (the next process parses the dictionary again)."""
    from docgen._io import write_sealed

    encoded = _encode(patterns)
    if not encoded:
        return
    write_sealed(
        entry,
        MAGIC,
        json.dumps({"key": key, "patterns": encoded}, ensure_ascii=True, separators=(",", ":")).encode("ascii"),
    )


def _read(entry: Path, key: str) -> dict[str, tuple[str, str]] | None:
    """The patterns of a verified entry, or None (no entry, or one that does not verify or decode)."""
    from docgen._io import read_sealed

    body = read_sealed(entry, MAGIC)
    if body is None:
        return None
    try:
        doc = json.loads(bytes(body).decode("ascii"))
        if doc["key"] != key:
            return None
        fields = doc["patterns"].split(" ")
        tags, starts, weights = fields[0::3], fields[1::3], fields[2::3]
        if not tags or not len(tags) == len(starts) == len(weights):
            return None
        if not all(map(str.isdecimal, starts)) or not all(map(str.isdecimal, weights)):
            return None
        return dict(zip(tags, zip(starts, weights)))
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return None
