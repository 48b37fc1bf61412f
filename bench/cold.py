"""Cold start: a fresh process rendering a spec through the CLI, against hand-written ReportLab's cold build.

    python3 bench/cold.py                    # 7 of each, examples/west-lake-guide.yaml
    python3 bench/cold.py -n 11 --spec examples/quarterly-report.yaml

In one run, interleaved, N times each:

* ``docgen render SPEC`` in a fresh interpreter, the parsed-font cache warm (what every run after the first
  on a machine is) — docgen's cold start;
* the same with ``DOCGEN_FONT_CACHE=0`` (every face parsed by ReportLab again, as before the cache);
* ``../shared/bench/build_reportlab.py`` in a fresh interpreter (its ~60-page document, fonts registered
  from docgen's bundled TTFs) — the floor, hand-written ReportLab.

Each figure is the process's wall time and its CPU time (user + system, which a loaded machine disturbs
less); the median of N is printed with the min, and the ratios docgen / ReportLab.  A first run with an
empty cache (the entries written: parsed fonts, hyphenation patterns, compiled templates, the parsed
theme) is timed once.  Region pictures come from the draft backend (backend auto: draft where no weights
are found), drawn in every run: a placeholder is not cached.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_BENCH = Path(os.environ.get("DOCGEN_SHARED_BENCH", ROOT.parent / "shared" / "bench"))
FONTS = ROOT / "docgen" / "fonts"


def run_child(cmd: list[str], env: dict, cwd: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, ""): spawned and reaped with os.wait4, which gives the child's usage."""
    t0 = time.perf_counter()
    pid = os.posix_spawn(
        cmd[0],
        cmd,
        env,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, str(cwd / "stderr.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        ],
    )
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{(cwd / 'stderr.txt').read_text(errors='replace')}")
    return wall, usage.ru_utime + usage.ru_stime, ""


def summary(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f} s (min {min(xs):.3f})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=7, help="fresh processes of each kind (default 7)")
    ap.add_argument("--spec", default=str(ROOT / "examples" / "west-lake-guide.yaml"))
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="docgen-cold-"))
    # PYTHONDONTWRITEBYTECODE off: an installed docgen has its bytecode, as ReportLab has from its wheel install
    # (pip compiles at install; a checkout writes it at the first, untimed run below) — with it set, every
    # measured process would compile docgen's modules from source (~0.13 s) and ReportLab's not at all
    base = {k: v for k, v in os.environ.items() if not k.startswith("DOCGEN_") and k != "PYTHONDONTWRITEBYTECODE"}
    base.update(
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        DOCGEN_CACHE_DIR=str(work / "cache"),
        HF_HUB_OFFLINE="1",
        SOURCE_DATE_EPOCH="1767225600",
    )
    nocache = {**base, "DOCGEN_FONT_CACHE": "0"}
    rl_env = {
        **base,
        "BENCH_ZH_SERIF": str(FONTS / "NotoSerifSC-Regular.ttf"),
        "BENCH_ZH_SANS_BOLD": str(FONTS / "NotoSansSC-Bold.ttf"),
        "BENCH_EN_SERIF": str(FONTS / "NotoSerif-Regular.ttf"),
        "PYTHONPATH": str(SHARED_BENCH),
    }
    py = sys.executable
    docgen_cmd = [py, "-m", "docgen", "render", a.spec, "-o", str(work / "out.pdf"), "-q"]
    rl_cmd = [py, str(SHARED_BENCH / "build_reportlab.py"), str(work / "rl.pdf"), "1"]
    if not (SHARED_BENCH / "build_reportlab.py").exists():
        raise SystemExit(f"no {SHARED_BENCH}/build_reportlab.py (see ../shared/README.md)")

    first = run_child(docgen_cmd, base, work)  # empty cache: fonts parsed and written, pictures drawn
    run_child(rl_cmd, rl_env, work)  # the OS's file cache warm for both
    fig: dict[str, list[tuple[float, float]]] = {"docgen": [], "docgen, no font cache": [], "reportlab": []}
    for _ in range(a.n):  # interleaved: a load change hits all three alike
        fig["docgen"].append(run_child(docgen_cmd, base, work)[:2])
        fig["docgen, no font cache"].append(run_child(docgen_cmd, nocache, work)[:2])
        fig["reportlab"].append(run_child(rl_cmd, rl_env, work)[:2])
    rl_report = json.loads(
        subprocess.run(rl_cmd, env=rl_env, cwd=work, capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )

    print(
        f"cold start, {a.n} fresh processes each ({Path(a.spec).name}; ReportLab: "
        f"../shared/bench/build_reportlab.py, {rl_report.get('pages')} pages)"
    )
    print(f"  docgen, empty cache (first run)   wall {first[0]:.3f} s   cpu {first[1]:.3f} s")
    for name, xs in fig.items():
        print(f"  {name:32s}  wall {summary([w for w, _ in xs])}   cpu {summary([c for _, c in xs])}")
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in fig.items()}
    for name in ("docgen", "docgen, no font cache"):
        print(
            f"  {name} / reportlab: wall {med[name][0] / med['reportlab'][0]:.2f}x, "
            f"cpu {med[name][1] / med['reportlab'][1]:.2f}x"
        )
    if a.json:
        Path(a.json).write_text(
            json.dumps({"n": a.n, "spec": a.spec, "first": first[:2], "runs": fig, "median": med}, indent=1),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
