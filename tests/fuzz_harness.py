"""The fuzz harness (issue 15, item 10): generated and mutated input in, only ``DocgenError`` out.

Two targets, each a plain function that Hypothesis (``tests/test_fuzz.py``, a few seconds) and
``bench/fuzz.py --seconds N`` (a stated time) drive:

* :func:`run_yaml` — YAML text (the shipped examples mutated: truncated, lines dropped, duplicated or
  swapped, bytes flipped, YAML and docgen syntax spliced in, values replaced; or specs generated from the
  block kinds with hostile values) → ``docgen validate`` (load, data, assets, layout for every edition),
  then, when it validates, ``render`` of one edition.  A render that succeeds must give a PDF that
  reopens with the page count it reports.
* :func:`run_check` — bytes (real rendered PDFs truncated, with bytes flipped, spliced together, with
  deep nesting, huge counts and lengths, broken cross-references spliced in) → ``docgen check`` under a
  drawn standard (clreq, gbt9704, pdfua, pdfa) along the CLI's own path.

Anything but a :class:`docgen.DocgenError` escaping either is a failure; so is a case running past
``CASE_SECONDS`` (a :class:`Hang`).  Nothing is read from or written to outside the work folder.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import threading
import zlib
from collections import Counter
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CASE_SECONDS = 60.0  # over this a case is a hang (docgen's own limits are tighter)
EDITIONS = (None, "parallel", "stacked", "zh", "en")
STANDARDS = ("clreq", "gbt9704", "pdfua", "pdfa")

outcomes: Counter = Counter()  # what the cases did, for the bench's report


class Hang(Exception):
    """A case ran past CASE_SECONDS."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """SIGALRM after ``seconds`` (main thread only; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def alarm(*_):
        raise Hang(f"the case ran longer than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ---- the work folder: a copy of the examples (their assets and data), where the cases are written ----------


def work_folder(base: Path) -> Path:
    folder = base / "fuzz-examples"
    if not folder.exists():
        shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("out", "reports", "*.sqlite-journal"))
    return folder


SEEDS = {p.name: p.read_bytes() for p in sorted(EXAMPLES.glob("*.yaml"))}
SEEDS["sales-report/sales-report.yaml"] = (EXAMPLES / "sales-report" / "sales-report.yaml").read_bytes()


# ---- YAML: mutations of the examples ----------------------------------------------------------------------

FRAGMENTS = [
    "!!python/object/apply:os.system ['true']",
    "!!binary aGk=",
    "&a ",
    "*a",
    "<<: *a",
    "{",
    "}",
    "[",
    "]",
    ": ",
    "- ",
    "\t",
    "\x00",
    "\x1b[31m",
    "\u202e",
    "\ud800",
    "\ufeff",
    "9:30",
    "0755",
    "0x1F",
    "1e400",
    ".nan",
    "-.inf",
    "~",
    "null",
    "yes",
    "No",
    "'",
    '"',
    "|",
    ">-",
    "---",
    "...",
    "%YAML 1.1",
    "? ",
    "#",
    "{{ 7*7 }}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "{title}",
    "{x:>100000}",
    "{0.__class__}",
    "../../etc/passwd",
    "/dev/zero",
    "/etc/passwd",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "sqlite:///file::memory:",
    "[" * 3000,
    "{a: " * 500,
    "a" * 20_000,
    "字" * 3000,
    "-1",
    "0",
    "1e-320",
    "99999999999999999999",
    "true",
    "generate: {prompt: x, aspect: '0:0'}",
    "image: {path: /dev/stdin}",
    "table: {rows: [[1, 2], [3]]}",
    "page_break:",
    "heading: {text: x, level: 99}",
    "list: {items: []}",
    "chart: {kind: pie, series: {}}",
    "data: {x: {file: ../../etc/passwd}}",
    "theme: {fonts: {body: {latin: [{regular: map.png}]}}}",
    "theme: {styles: {body: {size: .nan, leading: -1}}}",
    "theme: {margins: {top: 1e9}}",
    "params: {p: {type: int, default: '1' }}",
    "bilingual: parallel",
    "languages: [en]",
    "languages: [zh, zh]",
    "layout: ../../..",
    "layout: /",
    "layout: gongwen",
    "layout: poster",
]
_VALUE = st.sampled_from(FRAGMENTS) | st.text(max_size=40)


@st.composite
def mutated_yaml(draw) -> tuple[str, bytes]:
    """(seed name, mutated bytes)."""
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = SEEDS[name]
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "drop", "dup", "swap", "insert", "flip", "value", "indent"]))
        lines = data.split(b"\n")
        n = len(lines)
        if op == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif op == "drop":
            i = draw(st.integers(0, n - 1))
            data = b"\n".join(lines[:i] + lines[i + draw(st.integers(1, 5)) :])
        elif op == "dup":
            i = draw(st.integers(0, n - 1))
            data = b"\n".join(lines[: i + 1] + lines[i:])
        elif op == "swap":
            i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        elif op == "insert":
            at = draw(st.integers(0, len(data)))
            frag = draw(_VALUE).encode("utf-8", "surrogatepass")
            data = data[:at] + frag + data[at:]
        elif op == "flip" and data:
            b = bytearray(data)
            for _ in range(draw(st.integers(1, 8))):
                i = draw(st.integers(0, len(b) - 1))
                b[i] = draw(st.integers(0, 255))
            data = bytes(b)
        elif op == "value":
            # a scalar after "key: " replaced by a fragment
            i = draw(st.integers(0, n - 1))
            line = lines[i]
            k = line.find(b": ")
            if k >= 0:
                lines[i] = line[: k + 2] + draw(_VALUE).encode("utf-8", "surrogatepass")
                data = b"\n".join(lines)
        elif op == "indent":
            i = draw(st.integers(0, n - 1))
            lines[i] = b" " * draw(st.integers(0, 9)) + lines[i].lstrip()
            data = b"\n".join(lines)
    return name, data


# ---- YAML: specs generated from the block kinds, hostile values ---------------------------------------------

_text = (
    st.text(max_size=60)
    | st.sampled_from(FRAGMENTS)
    | st.text("字汉，。a b", max_size=400)
    | st.builds(lambda z, e: {"zh": z, "en": e}, st.text(max_size=30), st.text(max_size=30))
)
_number = (
    st.integers(-(10**6), 10**9) | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(["1.10", "16:9"])
)
_scalar = _text | _number | st.booleans() | st.none()


def _block():
    return st.one_of(
        st.builds(lambda t, lv: {"heading": {"text": t, "level": lv}}, _text, st.integers(-1, 8)),
        st.builds(lambda t: {"paragraph": t}, _text),
        st.builds(
            lambda items, ordered: {"list": {"items": items, "ordered": ordered}},
            st.lists(_text, max_size=6),
            st.booleans(),
        ),
        st.builds(
            lambda head, rows: {"table": {"header": head, "rows": rows}},
            st.lists(_text, max_size=4),
            st.lists(st.lists(_scalar, max_size=4), max_size=8),
        ),
        st.builds(
            lambda p, a: {"image": {"path": p, "alt": a}},
            st.sampled_from(["assets/map.png", "assets/nope.png", "../x.png", "/etc/passwd", "", "assets"]),
            _text,
        ),
        st.builds(
            lambda p, a: {"generate": {"prompt": p, "aspect": a}},
            _text,
            st.sampled_from(["16:9", "1:1", "3:4", "0:1", "1:100000", "x"]) | _number,
        ),
        st.builds(
            lambda kind, s: {"chart": {"kind": kind, "series": s}},
            st.sampled_from(["bar", "line", "pie", "radar"]),
            st.dictionaries(st.text(max_size=8), st.lists(_number, max_size=6), max_size=3),
        ),
        st.just({"page_break": None}),
        st.dictionaries(st.sampled_from(["quote", "toc", "paragraph", "x"]), _scalar, min_size=1, max_size=2),
    )


@st.composite
def generated_yaml(draw) -> tuple[str, bytes]:
    langs = draw(st.sampled_from([["zh", "en"], ["zh"], ["en"], ["en", "zh"]]))
    spec: dict = {
        "layout": draw(st.sampled_from(["report", "brochure", "poster"])),
        "languages": langs,
        "meta": {"title": draw(_text)},
        "body": draw(st.lists(_block(), max_size=8)),
    }
    if len(langs) == 2 and draw(st.booleans()):
        spec["bilingual"] = draw(st.sampled_from(["parallel", "stacked", "zh", "en"]))
    if draw(st.booleans()):
        spec["meta"].update(
            draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "author": _text,
                        "subject": _text,
                        "keywords": st.lists(_text, max_size=3),
                        "date": _scalar,
                    },
                )
            )
        )
    if draw(st.integers(0, 3)) == 0:
        spec["theme"] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "colors": st.dictionaries(st.sampled_from(["text", "accent"]), _scalar, max_size=2),
                    "styles": st.dictionaries(
                        st.sampled_from(["body", "h1"]),
                        st.dictionaries(st.sampled_from(["size", "leading", "indent_em"]), _number, max_size=2),
                        max_size=2,
                    ),
                },
            )
        )
    as_json = draw(st.booleans())  # JSON is YAML too: the same loader
    text = json.dumps(spec, ensure_ascii=False) if as_json else _yaml_dump(spec)
    return "generated.yaml", text.encode("utf-8", "surrogatepass")


def _yaml_dump(spec) -> str:
    import yaml

    return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)


yaml_cases = mutated_yaml() | generated_yaml()


def run_yaml(folder: Path, name: str, data: bytes, edition: str | None, render: bool = True) -> str:
    """validate, then (when it validates and ``render``) render one edition; the outcome's name."""
    import pypdf

    from docgen.cli import _load_spec
    from docgen.errors import DocgenError
    from docgen.render import check_document, render_document

    path = folder / name.replace("generated.yaml", "fuzz-case.yaml").replace(".yaml", ".fuzz.yaml")
    path.write_bytes(data)
    with time_limit(CASE_SECONDS):
        try:
            doc, root, _ = _load_spec(str(path))
            check_document(doc, root)
        except DocgenError:
            outcomes["yaml refused"] += 1
            return "refused"
        if not render:
            outcomes["yaml valid"] += 1
            return "valid"
        try:
            res = render_document(doc, root, edition=edition)
        except DocgenError:
            outcomes["render refused"] += 1
            return "render refused"
    reader = pypdf.PdfReader(io.BytesIO(res.pdf))  # a render that succeeds gives a PDF that reopens
    assert len(reader.pages) == res.pages, (len(reader.pages), res.pages)
    assert res.pdf.startswith(b"%PDF-") and res.pdf.rstrip().endswith(b"%%EOF")
    outcomes["rendered"] += 1
    return "rendered"


# ---- PDF bytes: mutations of real rendered PDFs -------------------------------------------------------------


def seed_pdfs(folder: Path, names=("poster.yaml", "gongwen-han.yaml", "west-lake-guide.yaml")) -> dict[str, bytes]:
    """PDFs docgen rendered from the examples (one tagged), cached in ``folder``."""
    import docgen

    out = {}
    for name in names:
        cached = folder / (name + ".pdf")
        if not cached.exists():
            cached.write_bytes(
                docgen.render(EXAMPLES / name, pdfua=name == "poster.yaml", tagged=name == "poster.yaml").pdf
            )
        out[name] = cached.read_bytes()
    return out


def _bomb() -> bytes:
    """A content stream of 16 KiB that inflates to 256 MiB."""
    z = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    return b"".join([*(z.compress(chunk) for _ in range(256)), z.flush()])


_BOMB: list[bytes] = []

PDF_FRAGMENTS = [
    b"[" * 5000,
    b"<<" * 3000,
    b"/Count 2147483647",
    b"/Count -1",
    b"/Length 999999999",
    b"/Length -5",
    b"/Kids [1 0 R 1 0 R]",
    b"/Parent 2 0 R",
    b"endobj",
    b"stream\n",
    b"endstream",
    b"xref\n0 999999\n",
    b"trailer << /Root 1 0 R /Size 3 >>",
    b"startxref\n0\n%%EOF",
    b"/Filter /FlateDecode",
    b"/Filter /LZWDecode",
    b"/Filter [/FlateDecode /ASCIIHexDecode /RunLengthDecode]",
    b"/Encrypt << /V 5 >>",
    b"(" * 4000,
    b"9999999999 0 R",
    b"/Type /Pages",
    b"/MediaBox [0 0 1e40 -1]",
    b"/W [1 2 1]",
    b"/Type /ObjStm /N 1000000",
    b"\x00" * 64,
    b"%PDF-1.7\n",
    b"1 0 obj",
    b"/Font << /F1 9999 0 R >>",
]


def _bomb_fragment() -> bytes:
    if not _BOMB:
        _BOMB.append(_bomb())
    data = _BOMB[0]
    return (b"99 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data)) + data + b"\nendstream\nendobj\n"


@st.composite
def mutated_pdf(draw, seeds: dict[str, bytes]) -> bytes:
    names = sorted(seeds)
    data = seeds[draw(st.sampled_from(names))]
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "splice", "insert", "replace", "number", "bomb"]))
        if op == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif op == "flip" and data:
            b = bytearray(data)
            for _ in range(draw(st.integers(1, 16))):
                b[draw(st.integers(0, len(b) - 1))] = draw(st.integers(0, 255))
            data = bytes(b)
        elif op == "splice":
            other = seeds[draw(st.sampled_from(names))]
            data = data[: draw(st.integers(0, len(data)))] + other[draw(st.integers(0, len(other))) :]
        elif op == "insert":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.sampled_from(PDF_FRAGMENTS) | st.binary(max_size=64)) + data[at:]
        elif op == "replace":
            # one of the PDF's own keys given another value
            key = draw(
                st.sampled_from(
                    [
                        b"/Count ",
                        b"/Length ",
                        b"/Kids [",
                        b"/Parent ",
                        b"/Size ",
                        b"/Root ",
                        b"/First ",
                        b"/N ",
                        b"/Contents ",
                        b"/Resources ",
                    ]
                )
            )
            at = data.find(key, draw(st.integers(0, max(0, len(data) - 1))))
            if at >= 0:
                end = at + len(key)
                data = data[:end] + draw(st.sampled_from(PDF_FRAGMENTS)) + data[end + draw(st.integers(0, 12)) :]
        elif op == "number":
            # a number in the file replaced (object numbers, offsets, counts)
            at = draw(st.integers(0, max(0, len(data) - 1)))
            while at < len(data) and not data[at : at + 1].isdigit():
                at += 1
            data = data[:at] + str(draw(st.integers(-1, 2**40))).encode() + data[at + 1 :]
        elif op == "bomb":
            at = data.rfind(b"xref")
            at = at if at > 0 else len(data)
            data = data[:at] + _bomb_fragment() + data[at:]
    return data


def run_check(data: bytes, standard: str) -> str:
    """``docgen check`` on ``data`` along the CLI's path; the outcome's name."""
    from docgen.cli import _print_check
    from docgen.errors import DocgenError

    with time_limit(CASE_SECONDS):
        try:
            ok = _print_check(data, standard, 1.0, quiet=True)
        except DocgenError:
            outcomes["check refused"] += 1
            return "refused"
    outcomes["checked"] += 1
    return "ok" if ok else "violations"


def environment() -> None:
    """What a fuzz run needs: the draft backend, no model hub, no reading of the user's config."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["DOCGEN_BACKEND"] = "draft"
