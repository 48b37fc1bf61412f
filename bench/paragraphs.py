"""Paragraph quality: a set of hard mixed Chinese/English paragraphs set at a sweep of measures by docgen and,
in the same run, by Typst with the same fonts, size and leading; the PDFs measured from character positions.

Input: bench/paragraphs/hard.txt (mixed scripts, URLs, e-mail, paths, long words, consecutive punctuation,
full-width digits, footnote marks).  Output: one table per engine and measure — hard CLREQ violations
(shared/checks/check_pdf.py --level strict --all-breaks), lines with gaps between Han characters > ¼ em and
> ½ em, word spaces > ¾ em, full-width marks at a line end (ink stopping ½ em short of the edge), 孤字 (a
last line of one character), overflow past the measure, numbers split across lines, URLs broken right after
the scheme — and the totals.  Typst is skipped when the ``typst`` package is absent (``pip install typst``).

usage: python3 bench/paragraphs.py [--measures 12,15,…] [--out DIR] [--engines docgen,typst]
"""
from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
CHECKS = ROOT.parent / "shared" / "checks"
if not CHECKS.exists():
    CHECKS = Path("/work/shared/checks")
sys.path.insert(0, str(CHECKS))

SIZE = 10.0
LEADING = 1.6 * SIZE                 # baseline to baseline
PARA_GAP = 2 * LEADING               # extra space between paragraphs (so --all-breaks sees only soft breaks)
MARGIN = 36.0
MEASURES = [12 + i * 32 / 11 for i in range(12)]          # 12 … 44 em
FONTS = ROOT / "docgen" / "fonts"
HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
RIGHT_BLANK = set("，。、；：？！）」』》〉】〕”’．")       # full-width marks whose blank half is on the right
PUNCT = set("，。、；：？！（）「」『』《》〈〉【】〔〕“”‘’—…·．,.;:!?()[]\"'")


def paragraphs() -> list[tuple[str, str]]:
    out, lang = [], "zh"
    for block in re.split(r"\n\s*\n", (HERE / "paragraphs" / "hard.txt").read_text(encoding="utf-8")):
        lines = [ln for ln in block.strip().splitlines() if not ln.startswith("#")]
        if lines and lines[0].strip() == "@en":
            lang, lines = "en", lines[1:]
        if lines:
            out.append(("".join(ln.strip() for ln in lines), lang))
            lang = "zh"
    return out


# ------------------------------------------------------------------------------------------------ engines

def docgen_pdf(paras, measures) -> bytes:
    from reportlab.pdfgen import canvas
    from docgen.typeset.breaker import break_lines
    from docgen.typeset.fonts import FontStack, family
    from docgen.typeset.text import ParaFormat, Run, TextStyle
    from docgen.typeset.textobject import draw_line
    latin = family("NotoSerif-Regular.ttf", "NotoSerif-Bold.ttf", "NotoSerif-Italic.ttf", "NotoSerif-BoldItalic.ttf")
    cjk = family("NotoSerifSC-Regular.ttf", "NotoSerifSC-Bold.ttf")
    st = TextStyle(FontStack((latin,), (cjk,)), SIZE)
    buf = io.BytesIO()
    c = None
    for m in measures:
        W = m * SIZE
        sets = [break_lines([Run(t, st)], W, ParaFormat(lang=lang)) for t, lang in paras]
        h = 2 * MARGIN + sum(len(ls) * LEADING + PARA_GAP for ls in sets)
        if c is None:
            c = canvas.Canvas(buf, pagesize=(W + 2 * MARGIN, h), invariant=1)
        else:
            c.setPageSize((W + 2 * MARGIN, h))
        y = h - MARGIN - SIZE
        for ls in sets:
            for ln in ls:
                draw_line(c, ln, MARGIN, y)
                y -= LEADING
            y -= PARA_GAP
        c.showPage()
    c.save()
    return buf.getvalue()


def _tstr(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def typst_pdf(paras, measures) -> bytes | None:
    try:
        import typst
    except ImportError:
        return None
    src = ['#set text(font: ("Noto Serif", "Noto Serif SC"), size: 10pt, top-edge: "ascender", '
           'bottom-edge: "descender")',
           f'#set par(justify: true, leading: {LEADING - SIZE:.2f}pt, spacing: {PARA_GAP + LEADING - SIZE:.2f}pt)']
    for i, m in enumerate(measures):
        body = "\n\n".join(f'#text(lang: "{lang}")[#{_tstr(t)}]' for t, lang in paras)
        src.append(f'#page(width: {m * SIZE + 2 * MARGIN:.3f}pt, height: auto, margin: {MARGIN}pt)[\n{body}\n]')
    return typst.compile("\n".join(src).encode(), font_paths=[str(FONTS)], ignore_system_fonts=True)


# ------------------------------------------------------------------------------------------------ measuring

class _Ink:
    """Right ink edge of a pdfplumber char from the outlines of the bundled font that drew it."""

    def __init__(self):
        from fontTools.ttLib import TTFont
        from clreq_rules import InkMetrics
        self.paths = {}
        for f in FONTS.glob("*.ttf"):
            ps = TTFont(str(f), lazy=True)["name"].getDebugName(6)
            self.paths[ps] = f
        self.metrics, self.Ink = {}, InkMetrics

    def __call__(self, c) -> float:
        name = c["fontname"].split("+")[-1]
        path = self.paths.get(name)
        if path is None:
            return c["x1"]
        if path not in self.metrics:
            self.metrics[path] = self.Ink(str(path))
        return self.metrics[path](c)


def _paras_of(page_lines):
    """Consecutive lines grouped into paragraphs by the extra space between them."""
    out = []
    prev = None
    for ln in page_lines:
        base = ln[0]["_base"]
        if prev is None or prev - base > LEADING * 1.3:
            out.append([])
        out[-1].append(ln)
        prev = base
    return out


def measure(pdf: bytes, measures, ink) -> list[Counter]:
    import pdfplumber
    from clreq_rules import page_lines
    rows = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page, m in zip(doc.pages, measures):
            em = SIZE
            edge = MARGIN + m * SIZE
            r = Counter()
            for para in _paras_of(page_lines(page)):
                texts = ["".join(c["text"] for c in ln) for ln in para]
                for i, ln in enumerate(para):
                    last = i == len(para) - 1
                    big_h = [b["x0"] - a["x1"] for a, b in zip(ln, ln[1:])
                             if HAN.match(a["text"]) and HAN.match(b["text"])]
                    if big_h and max(big_h) > 0.25 * em:
                        r["han>1/4"] += 1
                    if big_h and max(big_h) > 0.5 * em:
                        r["han>1/2"] += 1
                    for a, b in zip(ln, ln[1:]):
                        g = b["x0"] - a["x1"]
                        if (not HAN.match(a["text"]) and not HAN.match(b["text"]) and a["text"].isascii()
                                and b["text"].isascii() and g > 0.75 * em):
                            r["space>3/4"] += 1
                    if max(ink(c) for c in ln) > edge + 0.6:
                        r["overflow"] += 1
                    if last:
                        continue
                    end, nxt = ln[-1], texts[i + 1]
                    if end["text"] in RIGHT_BLANK and edge - end["x0"] > 0.75 * em:
                        r["fw-end"] += 1
                    t = texts[i]
                    if (re.search(r"[0-9０-９]$", t) and re.match(r"[0-9０-９%％‰℃A-Za-z]", nxt)
                            or re.search(r"[0-9０-９][.．]$", t) and re.match(r"[0-9０-９]", nxt)):
                        r["split-num"] += 1
                    if re.search(r"(https?|ftp|file):/{0,2}$", t) or (re.search(r"(https?|ftp|file):$", t)):
                        r["url-scheme"] += 1
                if len(para) > 1:
                    tail = [c for c in para[-1] if c["text"] not in PUNCT]
                    if len(tail) <= 1:
                        r["孤字"] += 1
                r["lines"] += len(para)
            rows.append(r)
    return rows


def violations(pdf: bytes, n_pages: int, work: Path, name: str) -> list[int]:
    path = work / f"{name}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([sys.executable, str(CHECKS / "check_pdf.py"), str(path), "--level", "strict",
                          "--all-breaks", "--max-report", "100000"], capture_output=True, text=True).stdout
    per = Counter(int(m) for m in re.findall(r"^ERROR \[[^\]]+\] page (\d+)", out, re.M))
    return [per.get(i + 1, 0) for i in range(n_pages)]


COLUMNS = ("hard", "han>1/4", "han>1/2", "space>3/4", "fw-end", "孤字", "overflow", "split-num", "url-scheme",
           "lines")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--measures", help="comma-separated measures in em (default: 12 measures from 12 to 44)")
    ap.add_argument("--engines", default="docgen,typst")
    ap.add_argument("--out", help="keep the PDFs here")
    a = ap.parse_args()
    measures = [float(x) for x in a.measures.split(",")] if a.measures else MEASURES
    work = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="docgen-bench-paras-"))
    work.mkdir(parents=True, exist_ok=True)
    paras = paragraphs()
    ink = _Ink()
    builders = {"docgen": docgen_pdf, "typst": typst_pdf}
    totals = {}
    print(f"{len(paras)} paragraphs at {len(measures)} measures, {SIZE:g} pt, leading {LEADING:g} pt")
    for eng in a.engines.split(","):
        pdf = builders[eng](paras, measures)
        if pdf is None:
            print(f"\n{eng}: skipped (pip install typst)")
            continue
        rows = measure(pdf, measures, ink)
        for r, v in zip(rows, violations(pdf, len(measures), work, eng)):
            r["hard"] = v
        print(f"\n{eng}")
        print(f"{'measure':>8} " + " ".join(f"{c:>10}" for c in COLUMNS))
        tot = Counter()
        for m, r in zip(measures, rows):
            print(f"{m:7.1f}em " + " ".join(f"{r[c]:>10}" for c in COLUMNS))
            tot.update({c: r[c] for c in COLUMNS})
        print(f"{'total':>8} " + " ".join(f"{tot[c]:>10}" for c in COLUMNS))
        totals[eng] = (tot, rows)
    if "docgen" in totals and "typst" in totals:
        d, t = totals["docgen"][1], totals["typst"][1]
        loose = sum(1 for x, y in zip(d, t) if x["han>1/4"] < y["han>1/4"] or x["han>1/4"] == y["han>1/4"] == 0)
        sp = sum(1 for x, y in zip(d, t) if x["space>3/4"] < y["space>3/4"] or x["space>3/4"] == y["space>3/4"] == 0)
        print(f"\ndocgen fewer (or no) loose lines than Typst at {loose}/{len(d)} measures, "
              f"fewer (or no) wide word spaces at {sp}/{len(d)}")
    print(f"PDFs in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
