"""Reference pages: one page per layout and edition of the shipped examples, rendered to PDF by docgen,
rasterised by pypdfium2 at 60 dpi in grey, and compared with the PNGs in tests/golden/.

The comparison tolerates anti-aliasing noise (a pixel matches when it lies within ``TOLERANCE`` grey
levels of the range of the reference's pixels in its 3 × 3 neighbourhood, and the other way round; up to
``MAX_BAD`` pixels may miss), so edge shading, gamma and whole-pixel jitter pass, and fails when a word
changes, a paragraph is added or a line of text moves by about a millimetre (2.4 px at 60 dpi).  A
different text rasteriser (PDFium's LCD mode, supersampling) moves more pixels than that: regenerate
the references after upgrading pypdfium2.

usage: python3 tools/golden.py            compare every page, write failures to tests/golden/_failures/
       python3 tools/golden.py --update   rewrite the reference PNGs after an intended change
       python3 tools/golden.py NAME …     only these pages
"""
from __future__ import annotations

import io
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GOLDEN = ROOT / "tests" / "golden"
FAILURES = GOLDEN / "_failures"

DPI = 60
TOLERANCE = 64          # grey levels a pixel may lie outside its neighbourhood's range in the other image
MAX_BAD = 16            # pixels allowed past the tolerance (isolated hinting differences)


@dataclass(frozen=True)
class Case:
    name: str
    spec: str                       # relative to examples/
    edition: str | None
    page: int                       # 1-based
    override: dict = field(default_factory=dict)   # top-level spec keys replaced before rendering


CASES = [
    Case("brochure-parallel-cover", "west-lake-guide.yaml", "parallel", 1),
    Case("brochure-parallel-body", "west-lake-guide.yaml", "parallel", 2),
    # render(edition="stacked") of a parallel spec gives the parallel PDF (see the report), so the mode is
    # switched in the spec itself
    Case("brochure-stacked-body", "west-lake-guide.yaml", "stacked", 2, {"bilingual": "stacked"}),
    Case("brochure-en-body", "west-lake-guide.yaml", "en", 2),
    Case("report-stacked-body", "quarterly-report.yaml", "stacked", 3),
    Case("report-parallel-body", "quarterly-report.yaml", "parallel", 3, {"bilingual": "parallel"}),
    Case("report-zh-title", "quarterly-report.yaml", "zh", 1),
    Case("poster-zh", "poster.yaml", "zh", 1),
    Case("gongwen-tongzhi-p1", "gongwen-tongzhi.yaml", "zh", 1),
    Case("gongwen-qingshi-p1", "gongwen-qingshi.yaml", "zh", 1),
    Case("gongwen-han-p1", "gongwen-han.yaml", "zh", 1),
    Case("gongwen-lianhe-p1", "gongwen-lianhe.yaml", "zh", 1),
    Case("gongwen-mingling-p1", "gongwen-mingling.yaml", "zh", 1),
    Case("gongwen-jiyao-p1", "gongwen-jiyao.yaml", "zh", 1),
    Case("sales-report-en-charts", "sales-report/sales-report.yaml", "en", 3),
]
BY_NAME = {c.name: c for c in CASES}


@contextmanager
def _cwd(path: Path):
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def render_pdf(case: Case, spec=None) -> bytes:
    """The case's PDF; ``spec`` (a dict) replaces the example's YAML, resolved against its folder."""
    import yaml

    import docgen
    os.environ.setdefault("DOCGEN_BACKEND", "draft")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = EXAMPLES / case.spec
    if spec is None and not case.override:
        return docgen.render(path, edition=case.edition).pdf
    if spec is None:
        spec = {**yaml.safe_load(path.read_text(encoding="utf-8")), **case.override}
    with _cwd(path.parent):      # a dict spec's relative paths (assets, data) resolve against the cwd
        return docgen.render(spec, edition=case.edition).pdf


def rasterise(pdf: bytes, page: int, dpi: int = DPI) -> Image.Image:
    """Page ``page`` (1-based) of ``pdf`` as a greyscale image."""
    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(pdf)
    try:
        if not 1 <= page <= len(doc):
            raise ValueError(f"page {page} requested, the PDF has {len(doc)}")
        return doc[page - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        doc.close()


def page_image(case: Case, spec=None) -> Image.Image:
    return rasterise(render_pdf(case, spec), case.page)


@dataclass
class Comparison:
    bad: int                        # pixels past the tolerance
    size_mismatch: bool
    mask: Image.Image | None        # 255 where a pixel is past the tolerance

    @property
    def ok(self) -> bool:
        return not self.size_mismatch and self.bad <= MAX_BAD


def _outside(a: Image.Image, b: Image.Image) -> Image.Image:
    """How far each pixel of ``a`` lies outside the range of ``b``'s 3 × 3 neighbourhood."""
    hi, lo = b.filter(ImageFilter.MaxFilter(3)), b.filter(ImageFilter.MinFilter(3))
    return ImageChops.lighter(ImageChops.subtract(a, hi), ImageChops.subtract(lo, a))


def compare(actual: Image.Image, golden: Image.Image, tolerance: int = TOLERANCE) -> Comparison:
    if actual.size != golden.size:
        return Comparison(bad=actual.width * actual.height, size_mismatch=True, mask=None)
    a, g = actual.convert("L"), golden.convert("L")
    off = ImageChops.lighter(_outside(a, g), _outside(g, a))
    mask = off.point(lambda v: 255 if v > tolerance else 0)
    return Comparison(bad=mask.histogram()[255], size_mismatch=False, mask=mask)


def diff_image(actual: Image.Image, golden: Image.Image, cmp: Comparison) -> Image.Image:
    """The reference faded, the actual page's ink in blue, pixels past the tolerance in red."""
    if cmp.mask is None:
        return actual.convert("RGB")
    base = Image.blend(golden.convert("RGB"), Image.new("RGB", golden.size, "white"), 0.7)
    ink = ImageChops.invert(actual.convert("L")).point(lambda v: min(255, v * 2) // 2)
    base.paste(Image.new("RGB", golden.size, (40, 80, 255)), mask=ink)
    base.paste(Image.new("RGB", golden.size, (255, 0, 0)), mask=cmp.mask)
    return base


def golden_path(name: str) -> Path:
    return GOLDEN / f"{name}.png"


def save_png(img: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)


def check(case: Case, *, failures: Path = FAILURES) -> tuple[Comparison, str]:
    """Compare the case with its reference; on a difference write ``<name>.actual.png`` and
    ``<name>.diff.png`` to ``failures`` and say where in the message."""
    ref = golden_path(case.name)
    actual = page_image(case)
    if not ref.exists():
        save_png(actual, failures / f"{case.name}.actual.png")
        return Comparison(bad=-1, size_mismatch=True, mask=None), (
            f"{case.name}: no reference {ref.relative_to(ROOT)}; run python3 tools/golden.py --update")
    golden = Image.open(ref)
    golden.load()
    cmp = compare(actual, golden)
    if cmp.ok:
        for suffix in (".actual.png", ".diff.png"):
            (failures / f"{case.name}{suffix}").unlink(missing_ok=True)
        return cmp, f"{case.name}: ok ({cmp.bad} px past the tolerance)"
    save_png(actual, failures / f"{case.name}.actual.png")
    save_png(diff_image(actual, golden, cmp), failures / f"{case.name}.diff.png")
    what = (f"page size {actual.size} != reference {golden.size}" if cmp.size_mismatch
            else f"{cmp.bad} px differ by more than {TOLERANCE} grey levels (allowed {MAX_BAD})")
    return cmp, (f"{case.name}: {what}; see {failures}/{case.name}.actual.png and .diff.png "
                 f"(red: differing pixels); if the change is intended: python3 tools/golden.py --update")


def main(argv: list[str]) -> int:
    update = "--update" in argv
    names = [a for a in argv if not a.startswith("-")]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        print(f"unknown page(s): {', '.join(unknown)}; known: {', '.join(BY_NAME)}", file=sys.stderr)
        return 2
    cases = [BY_NAME[n] for n in names] if names else CASES
    failed = 0
    for case in cases:
        if update:
            img = page_image(case)
            save_png(img, golden_path(case.name))
            print(f"wrote {golden_path(case.name).relative_to(ROOT)} ({img.width}×{img.height})")
            continue
        cmp, msg = check(case)
        failed += not cmp.ok
        print(msg)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
