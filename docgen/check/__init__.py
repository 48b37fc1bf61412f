"""Conformance checks of finished PDFs: PDF bytes in, a :class:`Report` of violations out.

Everything is measured from the PDF itself (the position and size of every character and rule, read
with pdfplumber), so the checks apply to any PDF, not only docgen's.  Standards:

* ``clreq`` — CLREQ line-break prohibitions at every soft line break of the body text;
* ``gbt9704`` — GB/T 9704-2012 (党政机关公文格式): paper, the measured 版心, the 22 × 28 grid, page numbers,
  the 版头 (份号, 标志, 发文字号, red rule) per format, the title, 主送, 正文 indents and fonts, dates, the
  版记, plus the CLREQ checks.
* ``pdfua`` — the machine-checkable part of PDF/UA-1 (check/pdfua.py, with pikepdf and the pdfua package);
* ``pdfa`` — the part of PDF/A-2b checkable without veraPDF (check/pdfa.py, with pikepdf).

pdfplumber is imported when a check runs (``pip install 'docgen[check]'``); ``import docgen.check`` is
free.  This stage imports no other docgen stage.
"""
from __future__ import annotations

import contextlib
import io
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MM = 72 / 25.4
STANDARDS = ("clreq", "gbt9704", "pdfua", "pdfa")
FORMATS = ("wenjian", "xinhan", "mingling", "jiyao")     # GB/T 9704-2012 10: the 公文's particular formats


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


MAX_PAGES = 5_000                 # pages a check reads
MAX_STREAM_BYTES = 512 * 2**20    # decompressed page contents and form XObjects, all pages together
MAX_FILE_BYTES = 1 * 2**30        # the PDF file itself


MAX_SECONDS = 300.0               # reading the pages


class _Timed:
    """A pdfplumber document whose pages stop coming after ``seconds`` (a CheckError)."""

    def __init__(self, doc, seconds: float):
        self._doc, self._seconds = doc, seconds

    @property
    def pages(self):
        import time
        deadline = time.monotonic() + self._seconds
        for page in self._doc.pages:
            if time.monotonic() > deadline:
                raise CheckError(f"reading the PDF took longer than {self._seconds:g} s")
            yield page
            page.close()             # pdfplumber caches each page's objects: let them go


def _bytes_of(pdf) -> bytes:
    if isinstance(pdf, (bytes, bytearray)):
        return bytes(pdf)
    if isinstance(pdf, (str, os.PathLike)):
        try:
            size = os.path.getsize(pdf)
            if size > MAX_FILE_BYTES:
                raise CheckError(f"the PDF is {size / 2**20:,.0f} MiB; docgen checks at most "
                                 f"{MAX_FILE_BYTES / 2**20:,.0f} MiB")
            with open(pdf, "rb") as f:
                return f.read()
        except OSError as e:
            raise CheckError(f"cannot read {os.fspath(pdf)}: {e.strerror}") from None
    data = pdf.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise CheckError(f"the PDF is over {MAX_FILE_BYTES / 2**20:,.0f} MiB")
    return data


def _preflight(data: bytes) -> None:
    """Refuse, before pdfminer reads it, a PDF whose reading is unbounded: a page tree that is a cycle,
    more than MAX_PAGES pages, streams that decompress beyond pypdf's limits or MAX_STREAM_BYTES."""
    import pypdf
    from pypdf.errors import LimitReachedError, PyPdfError
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise CheckError("the PDF is encrypted")
        root: Any = reader.trailer["/Root"]
        count = root["/Pages"].get("/Count", 0)
        if isinstance(count, int) and count > MAX_PAGES:
            raise CheckError(f"the PDF declares {count:,} pages; docgen checks at most {MAX_PAGES:,}")
        n = len(reader.pages)
        if n > MAX_PAGES:
            raise CheckError(f"the PDF has {n:,} pages; docgen checks at most {MAX_PAGES:,}")
        total, seen = 0, set()

        def streams(obj):
            ref = getattr(obj, "indirect_reference", None)
            key = (ref.idnum, ref.generation) if ref is not None else id(obj)
            if key in seen:
                return
            seen.add(key)
            yield obj
            res = obj.get("/Resources")
            xobjs = res.get_object().get("/XObject") if res is not None else None
            for x in (xobjs.get_object().values() if xobjs is not None else ()):
                x = x.get_object()
                if x.get("/Subtype") == "/Form":
                    yield from streams(x)

        for page in reader.pages:
            contents = page.get_contents()
            if contents is not None:
                total += len(contents.get_data())
            res = page.get("/Resources")
            xobjs = res.get_object().get("/XObject") if res is not None else None
            for x in (xobjs.get_object().values() if xobjs is not None else ()):
                x = x.get_object()
                if x.get("/Subtype") == "/Form":
                    for form in streams(x):
                        total += len(form.get_data())
            if total > MAX_STREAM_BYTES:
                raise CheckError(f"the PDF's page contents decompress to over {MAX_STREAM_BYTES / 2**20:,.0f} MiB")
    except CheckError:
        raise
    except LimitReachedError as e:
        raise CheckError(f"the PDF is over a reading limit: {e}") from None
    except RecursionError:
        raise CheckError("the PDF's objects are nested too deeply") from None
    except (PyPdfError, KeyError, TypeError, ValueError, AttributeError, NotImplementedError) as e:
        # NotImplementedError: a stream filter pypdf does not implement (a damaged or unknown filter name)
        raise CheckError(f"cannot read the PDF: {e}") from None


def _damaged() -> tuple[type[BaseException], ...]:
    """What reading a damaged PDF raises from inside pdfminer/pdfplumber, pikepdf and pdfua: their own error
    classes, and the built-in ones their parsers let through on objects of the wrong type or shape.
    (Imported here, when a check has run: ``import docgen.check`` stays free.)"""
    out: tuple[type[BaseException], ...] = (TypeError, ValueError, KeyError, IndexError, AttributeError,
                                            AssertionError, RecursionError, ZeroDivisionError, OverflowError,
                                            EOFError, OSError)
    with contextlib.suppress(ImportError):
        from pdfminer.psexceptions import PSException
        from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException
        out += (PSException, MalformedPDFException, PdfminerException)
    with contextlib.suppress(ImportError):
        from pikepdf import PdfError
        out += (PdfError,)
    with contextlib.suppress(ImportError):
        from pdfua.errors import PdfuaError
        out += (PdfuaError,)
    return out


def _open(pdf):
    try:
        import pdfplumber
    except ImportError:
        raise CheckError("checking a PDF needs pdfplumber: pip install 'docgen[check]'") from None
    data = _bytes_of(pdf)
    _preflight(data)
    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as e:   # pdfminer raises many kinds for a damaged file
        raise CheckError(f"cannot read the PDF: {type(e).__name__}: {e}") from None


def check_pdf(pdf, standard: str = "clreq", *, tol_mm: float = 1.0, fmt: str | None = None) -> Report:
    """Check a PDF (bytes, a path or a file object) against ``standard`` (clreq or gbt9704).

    ``tol_mm`` is the positional tolerance (GB/T 9704 allows ±1 mm).  ``fmt`` is the 公文's format for
    gbt9704 — wenjian (文件格式), xinhan (信函格式), mingling (命令格式) or jiyao (纪要格式); None detects it
    from the first page (the detection and its evidence are in the report's infos)."""
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if standard not in STANDARDS:
        raise ValueError(f"unknown standard {standard!r}; expected one of {', '.join(STANDARDS)}")
    if standard in ("pdfua", "pdfa"):
        from . import pdfa, pdfua
        if not isinstance(pdf, (bytes, bytearray, str, os.PathLike)):
            pdf = pdf.read()
        report = Report(standard)
        try:
            (pdfua if standard == "pdfua" else pdfa).check(pdf, report)
        except CheckError:
            raise
        except _damaged() as e:                # pikepdf, pdfua or an object of the wrong type in a damaged file
            raise CheckError(f"cannot read the PDF: {type(e).__name__}: {e}") from None
        return report
    from .text import read_pages
    doc = _open(pdf)
    try:
        pages = read_pages(_Timed(doc, MAX_SECONDS))
    except CheckError:
        raise
    except _damaged() as e:                    # pdfminer parses each page as it is read: a damaged one fails here
        raise CheckError(f"cannot read the PDF: {type(e).__name__}: {e}") from None
    finally:
        with contextlib.suppress(*_damaged()):
            doc.close()                        # pdfplumber's close() reads the page list again
    report = Report(standard, pages=len(pages))
    if standard == "gbt9704":
        from .gbt9704 import check as check_gongwen
        check_gongwen(pages, report, tol=tol_mm * MM, fmt=fmt)
    else:
        from .text import check_breaks
        check_breaks(pages, report, right_edge=None)
    return report


__all__ = ["CheckError", "FORMATS", "Report", "STANDARDS", "Violation", "check_pdf"]
