"""Fuzz docgen for a stated time: YAML text → validate/render and PDF bytes → ``docgen check``.

    python3 bench/fuzz.py --seconds 600                # both targets, alternating, 10 minutes
    python3 bench/fuzz.py --seconds 60 --target check  # one target
    python3 bench/fuzz.py --seconds 600 --report /tmp/fuzz.json

The harness is tests/fuzz_harness.py (the suite's tests/test_fuzz.py runs it for a few seconds): only a
DocgenError may escape, a render that succeeds gives a PDF that reopens, and a case may not run past
60 s.  Hypothesis draws the cases (random, not the suite's fixed ones), in chunks, each failure shrunk
to a small input; the run prints how many cases ran, what they did, and every distinct failure with
its falsifying input (the full notes go to ``--report``).  The process runs with 4 GiB of address
space at most (a runaway allocation is a MemoryError, reported like any other escape).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, required=True, help="how long to fuzz")
    ap.add_argument("--target", choices=["both", "yaml", "check"], default="both")
    ap.add_argument("--chunk", type=int, default=100, help="cases per Hypothesis run (default 100)")
    ap.add_argument("--report", help="write the figures and every failure's notes here (JSON)")
    ap.add_argument("--memory", type=float, default=4.0, help="GiB of address space (default 4)")
    a = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="docgen-fuzz-"))
    os.environ["DOCGEN_CACHE_DIR"] = str(work / "cache")
    import fuzz_harness as F

    F.environment()
    if a.memory:
        limit = int(a.memory * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    folder = F.work_folder(work)
    pdfs = F.seed_pdfs(folder)
    start = time.monotonic()
    deadline = start + a.seconds
    failures: dict[str, dict] = {}
    calls = {"yaml": 0, "check": 0}  # cases run, shrinking included

    def time_up() -> bool:
        return time.monotonic() > deadline

    chunk = settings(
        max_examples=a.chunk,
        deadline=None,
        database=None,
        derandomize=False,
        print_blob=True,
        phases=[Phase.generate, Phase.target, Phase.shrink],
        report_multiple_bugs=True,
        suppress_health_check=list(HealthCheck),
    )

    @chunk
    @given(case=F.yaml_cases, edition=st.sampled_from(F.EDITIONS))
    def yaml_target(case, edition):
        if not time_up():
            calls["yaml"] += 1
            F.run_yaml(folder, *case, edition)

    @chunk
    @given(data=st.data(), standard=st.sampled_from(F.STANDARDS))
    def check_target(data, standard):
        pdf = data.draw(F.mutated_pdf(pdfs))  # drawn even when the time is up: Hypothesis replays draws
        if not time_up():
            calls["check"] += 1
            F.run_check(pdf, standard)

    targets = {"yaml": [yaml_target], "check": [check_target], "both": [yaml_target, check_target]}[a.target]
    chunks = 0
    while not time_up():
        for target in targets:
            if time_up():
                break
            chunks += 1
            try:
                target()
            except BaseException as e:  # noqa: B036 — an ExceptionGroup of several, or one
                if isinstance(e, KeyboardInterrupt):
                    raise
                for err in getattr(e, "exceptions", [e]):
                    frames = traceback.extract_tb(err.__traceback__)
                    where = next(
                        (f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames) if "/docgen/" in f.filename),
                        frames[-1].filename if frames else "?",
                    )
                    key = f"{target.__name__}: {type(err).__name__} at {where}"
                    entry = failures.setdefault(
                        key,
                        {
                            "count": 0,
                            "message": str(err)[:500],
                            "notes": getattr(err, "__notes__", []),
                            "traceback": "".join(traceback.format_exception(err))[-4000:],
                        },
                    )
                    entry["count"] += 1
    elapsed = time.monotonic() - start
    cases = sum(calls.values())
    print(
        f"fuzzed {elapsed:.0f} s ({a.target}): {cases} cases ({calls['yaml']} YAML, {calls['check']} PDF; "
        f"shrinking included) in {chunks} Hypothesis runs, {len(failures)} distinct failures"
    )
    for k, v in sorted(F.outcomes.items()):
        print(f"  {k:16s} {v}")
    for key, f in failures.items():
        print(f"FAILURE {key} (x{f['count']}): {f['message'][:300]}")
        for note in f["notes"]:
            print("   ", note[:1500])
    if a.report:
        Path(a.report).write_text(
            json.dumps(
                {
                    "seconds": elapsed,
                    "target": a.target,
                    "cases": calls,
                    "outcomes": dict(F.outcomes),
                    "failures": failures,
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
