"""CLREQ line-break prohibitions measured on a finished PDF: text lines (characters with positions) in,
violations out.  The rule sets are the strict level of the W3C "Requirements for Chinese Text Layout"
(sections on line-start/line-end prohibition and unbreakable marks), with the GB solidus rule.
"""
from __future__ import annotations

import re

PAUSE_STOP = "、，；：。！？．" + ",.;:!?"
CLOSING = "”’」』）〕］】｝〗〙》〉" + ")]}"
CONNECTORS = "～〜‐‑–-"
INTERPUNCT = "·・•"
NO_START = frozenset(PAUSE_STOP + CLOSING + CONNECTORS + INTERPUNCT + "％‰℃" + "—…⸺⋯")
NO_END = frozenset("“‘「『（〔［【｛〖〘《〈" + "([{" + "／/")
UNBREAKABLE = ("——", "……", "⋯⋯")
LATIN = re.compile(r"[A-Za-z0-9]")


def break_violations(first: str, second: str) -> list[tuple[str, str]]:
    """(kind, message) for the soft break between two consecutive lines of one text."""
    out = []
    if not first or not second:
        return out
    if second[0] in NO_START:
        out.append(("clreq-start", f"line starts with {second[0]!r}: …{first[-6:]} | {second[:8]}…"))
    if first[-1] in NO_END:
        out.append(("clreq-end", f"line ends with {first[-1]!r}: …{first[-8:]} | {second[:6]}…"))
    if first[-1] + second[0] in UNBREAKABLE:
        out.append(("clreq-split", f"{first[-1] + second[0]!r} split across lines: …{first[-6:]} | {second[:6]}…"))
    return out
