"""Batch throughput: documents per second for a 100-document batch, and the cost of a re-run.

Renders the sales-report example (examples/sales-report: SQLite + CSV data, a table, two charts, a draft
cover, four pages) once per row of 100 rows (15 months, cycled) with the local engine on 1 and 2
workers and, where Ray is installed, on a local Ray instance; then re-runs the first batch with nothing
changed (every document skipped by its input key).  Each configuration writes to its own folder and
starts cold (the process pool or Ray is started inside the timing).  Prints documents/s, the speed-up
of 2 workers over 1, Ray against the local pool, and the re-run's time as a share of the first run
(target: under 10 %).

usage: python3 bench/batch.py [--docs N] [--out DIR]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DOCGEN_BACKEND", "draft")

from docgen.batch import run_batch  # noqa: E402
from docgen.batch.engines import ray_available  # noqa: E402

SALES = ROOT / "examples" / "sales-report"
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)] + ["2027-01", "2027-02", "2027-03"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--out", help="keep the outputs here (default: a temporary folder)")
    a = ap.parse_args()
    work = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="docgen-bench-batch-"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    rows = work / "rows.csv"
    rows.write_text("id,month\n" + "".join(f"{i},{MONTHS[i % len(MONTHS)]}\n" for i in range(1, a.docs + 1)))
    spec = SALES / "sales-report.yaml"
    os.chdir(work)
    print(f"batch of {a.docs} documents: {spec.relative_to(ROOT)} (draft cover), {os.cpu_count()} cores")

    results = {}
    configs = [("local, 1 worker", "local", 1), ("local, 2 workers", "local", 2)]
    why = ray_available()
    if why is None:
        configs.append(("ray (local instance), 2 CPUs", "ray", 2))
    for label, engine, workers in configs:
        t0 = time.perf_counter()
        rep = run_batch(spec, rows, f"{engine}-{workers}/{{id}}.pdf", engine=engine, workers=workers,
                        progress=False)
        dt = time.perf_counter() - t0
        assert rep.ok == a.docs and rep.failed == 0, rep.summary()
        results[label] = dt
        print(f"  {label:30s} {dt:7.2f} s  {a.docs / dt:6.2f} docs/s")
    if why:
        print(f"  ray: skipped — {why}")

    t0 = time.perf_counter()
    rep = run_batch(spec, rows, "local-2/{id}.pdf", engine="local", workers=2, progress=False)
    rerun = time.perf_counter() - t0
    assert rep.skipped == a.docs, rep.summary()
    first = results["local, 2 workers"]
    print(f"  {'re-run, nothing changed':30s} {rerun:7.2f} s  ({rep.skipped} skipped)")
    print("ratios:")
    print(f"  2 workers / 1 worker speed-up    {results['local, 1 worker'] / first:5.2f}x")
    if "ray (local instance), 2 CPUs" in results:
        print(f"  ray / local pool (2) time        {results['ray (local instance), 2 CPUs'] / first:5.2f}x")
    print(f"  re-run / first run (2 workers)   {100 * rerun / first:5.1f} %  (target < 10 %)")
    if not a.out:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
