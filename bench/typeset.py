"""Typesetting speed against the anchor engines, measured in one run.

Renders the ~60-page bilingual document of ../shared/bench/content.py with docgen (the benchmark layout,
which mirrors the hand-written builder, and the `report` layout with its title page, contents and
two-pass folios), and in the same run with the hand-written ReportLab builder and, where installed,
Typst and WeasyPrint. Each engine runs in a fresh process: a cold build, then warm builds of new data.
Prints pages/s, peak RSS, the CLREQ violations of each output, and ratios to hand-written ReportLab.

usage: python3 bench/typeset.py [--repeats N] [--out DIR]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = Path(os.environ.get("DOCGEN_SHARED", ROOT.parent / "shared"))
FONTS = ROOT / "docgen" / "fonts"

WRAP = ("import json, resource, runpy, sys; sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__'); "
        "print(json.dumps({'maxrss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")


def run(builder: Path, out: Path, repeats: int, *extra):
    env = dict(os.environ, BENCH_ZH_SERIF=str(FONTS / "NotoSerifSC-Regular.ttf"),
               BENCH_ZH_SANS_BOLD=str(FONTS / "NotoSansSC-Bold.ttf"), BENCH_EN_SERIF=str(FONTS / "NotoSerif-Regular.ttf"),
               DOCGEN_BACKEND="draft", PYTHONPATH=os.pathsep.join([str(ROOT), str(SHARED / "bench")]))
    p = subprocess.run([sys.executable, "-c", WRAP, str(builder), str(out), str(repeats), *extra],
                       capture_output=True, text=True, cwd=SHARED / "bench", env=env, timeout=1200)
    if p.returncode != 0:
        return None, (p.stderr.strip().splitlines() or ["failed"])[-1]
    lines = [json.loads(x) for x in p.stdout.strip().splitlines() if x.startswith("{")]
    res = lines[0]
    res["maxrss_mb"] = lines[-1]["maxrss_mb"]
    return res, None


def violations(pdf: Path) -> str:
    chk = SHARED / "checks" / "check_pdf.py"
    p = subprocess.run([sys.executable, str(chk), str(pdf), "--level", "strict"], capture_output=True, text=True)
    last = (p.stdout.strip().splitlines() or ["?"])[-1]
    return last.replace("SUMMARY ", "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=4, help="builds per process (first is cold)")
    ap.add_argument("--out", default=str(ROOT / "out" / "bench"))
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    engines = [
        ("reportlab (hand-written)", SHARED / "bench" / "build_reportlab.py", ()),
        ("docgen (bench layout)", HERE / "build_docgen.py", ()),
        ("docgen (report layout)", HERE / "build_docgen.py", ("report",)),
        ("typst", SHARED / "bench" / "build_typst.py", ()),
        ("weasyprint", SHARED / "bench" / "build_weasy.py", ()),
    ]
    rows = []
    for name, builder, extra in engines:
        pdf = out / (name.split()[0] + ("-report" if extra else "") + ".pdf")
        res, err = run(builder, pdf, a.repeats, *extra)
        if res is None:
            print(f"{name:26s} skipped: {err}")
            continue
        warm = statistics.median(res["build_s"][1:]) if len(res["build_s"]) > 1 else res["build_s"][0]
        rows.append(dict(name=name, pages=res["pages"], cold=res["build_s"][0], warm=warm,
                         import_s=res["import_s"], rss=res["maxrss_mb"], clreq=violations(pdf)))
    base = next((r for r in rows if r["name"].startswith("reportlab")), None)
    print(f"\n{'engine':26s} {'pages':>5s} {'warm s':>7s} {'pages/s':>8s} {'cold s':>7s} {'import s':>8s} "
          f"{'peak MB':>8s} {'× RL time':>9s}  CLREQ (strict)")
    for r in rows:
        ratio = r["warm"] / base["warm"] if base else float("nan")
        print(f"{r['name']:26s} {r['pages']:5d} {r['warm']:7.2f} {r['pages'] / r['warm']:8.1f} {r['cold']:7.2f} "
              f"{r['import_s']:8.2f} {r['rss']:8.0f} {ratio:9.2f}  {r['clreq']}")
    (out / "typeset.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
