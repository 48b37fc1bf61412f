"""Conformance checks of finished PDFs: PDF bytes in, a :class:`Report` of violations out.

Everything is measured from the PDF itself (the position and size of every character and rule, read
with pdfplumber), so the checks apply to any PDF, not only docgen's.  Standards:

* ``clreq`` — CLREQ line-break prohibitions at every soft line break of the body text;
* ``gbt9704`` — GB/T 9704-2012 (党政机关公文格式): paper, 版心, the 22 × 28 grid, page numbers, the red
  separator rule, the title, the 版记 rules, plus the CLREQ checks;
* ``pdfua`` — the machine-checkable part of PDF/UA-1 (check/pdfua.py, with pikepdf and the pdfua package);
* ``pdfa`` — the part of PDF/A-2b checkable without veraPDF (check/pdfa.py, with pikepdf).

pdfplumber is imported when a check runs (``pip install 'docgen[check]'``); ``import docgen.check`` is
free.  This stage imports no other docgen stage.
"""
from __future__ import annotations

import io
import os
from collections import Counter
from dataclasses import dataclass, field

MM = 72 / 25.4
STANDARDS = ("clreq", "gbt9704", "pdfua", "pdfa")


class CheckError(Exception):
    """The check could not run (a missing library, an unreadable PDF)."""

    exit_code = 2


@dataclass(frozen=True)
class Violation:
    kind: str                                   # e.g. margin, grid-line, grid-chars, folio, red-rule, clreq-start
    page: int                                   # 1-based
    position: tuple[float, float] | None        # (x, y) in mm from the page's top-left corner
    message: str

    def __str__(self) -> str:
        where = f"page {self.page}" + (f" at ({self.position[0]:.1f}, {self.position[1]:.1f}) mm"
                                       if self.position else "")
        return f"{where} [{self.kind}] {self.message}"


@dataclass
class Report:
    standard: str
    pages: int = 0
    violations: list[Violation] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def kinds(self) -> dict[str, int]:
        return dict(Counter(v.kind for v in self.violations))

    def add(self, kind: str, page: int, position, message: str) -> None:
        self.violations.append(Violation(kind, page, position, message))

    def lines(self, *, infos: bool = False) -> list[str]:
        out = [f"info: {i}" for i in self.infos] if infos else []
        out += [str(v) for v in self.violations]
        summary = ", ".join(f"{k} {n}" for k, n in self.kinds().items())
        out.append(f"{self.standard}: {self.pages} pages, "
                   + (f"{len(self.violations)} violations ({summary})" if self.violations else "no violations"))
        return out


def _open(pdf):
    try:
        import pdfplumber
    except ImportError:
        raise CheckError("checking a PDF needs pdfplumber: pip install 'docgen[check]'") from None
    if isinstance(pdf, (bytes, bytearray)):
        src = io.BytesIO(pdf)
    elif isinstance(pdf, (str, os.PathLike)):
        src = os.fspath(pdf)
    else:
        src = pdf
    try:
        return pdfplumber.open(src)
    except Exception as e:   # pdfminer raises many kinds for a damaged file
        raise CheckError(f"cannot read the PDF: {type(e).__name__}: {e}") from None


def check_pdf(pdf, standard: str = "clreq", *, tol_mm: float = 1.0) -> Report:
    """Check a PDF (bytes, a path or a file object) against ``standard`` (clreq or gbt9704).

    ``tol_mm`` is the positional tolerance (GB/T 9704 allows ±1 mm)."""
    if standard not in STANDARDS:
        raise ValueError(f"unknown standard {standard!r}; expected one of {', '.join(STANDARDS)}")
    if standard in ("pdfua", "pdfa"):
        from . import pdfa, pdfua
        if not isinstance(pdf, (bytes, bytearray, str, os.PathLike)):
            pdf = pdf.read()
        report = Report(standard)
        (pdfua if standard == "pdfua" else pdfa).check(pdf, report)
        return report
    from .text import read_pages
    with _open(pdf) as doc:
        pages = read_pages(doc)
    report = Report(standard, pages=len(pages))
    if standard == "gbt9704":
        from .gbt9704 import check as check_gongwen
        check_gongwen(pages, report, tol=tol_mm * MM)
    else:
        from .text import check_breaks
        check_breaks(pages, report, right_edge=None)
    return report


__all__ = ["CheckError", "Report", "STANDARDS", "Violation", "check_pdf"]
