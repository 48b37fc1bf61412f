"""ruff (lint and format) and mypy over docgen/, held against a per-module baseline that only shrinks.

    python3 tools/lint.py            # exit 1 when a module has more findings than .ci/lint-baseline.json allows
    python3 tools/lint.py --update   # lower the baseline to today's counts (it never raises one)

The baseline holds, per module, the ruff and mypy findings that predate the checks, and the files ruff
format would still change.  New modules start at zero: no findings, formatted.  tests/test_lint.py runs
the same check, so CI (which runs the test suite) runs it too.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / ".ci" / "lint-baseline.json"


def _run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *cmd], cwd=ROOT, capture_output=True, text=True)


def ruff_findings() -> Counter:
    p = _run("ruff", "check", "docgen", "--output-format", "json", "--no-cache")
    if p.returncode not in (0, 1):
        raise SystemExit(f"ruff failed: {p.stderr or p.stdout}")
    return Counter(Path(f["filename"]).resolve().relative_to(ROOT).as_posix() for f in json.loads(p.stdout or "[]"))


def unformatted() -> list[str]:
    p = _run("ruff", "format", "--check", "docgen", "--no-cache", "--output-format", "concise")
    found = re.findall(r"^(.+?\.py):\d+:\d+: unformatted", p.stdout, re.M)
    return sorted(set(Path(f).as_posix() for f in found))


def mypy_findings() -> Counter:
    p = _run("mypy", "docgen", "--no-error-summary", "--hide-error-context", "--no-pretty")
    if p.returncode not in (0, 1):
        raise SystemExit(f"mypy failed: {p.stderr or p.stdout}")
    out: Counter = Counter()
    for line in p.stdout.splitlines():
        m = re.match(r"^([^:]+\.py):\d+(?::\d+)?: error:", line)
        if m:
            out[Path(m.group(1)).as_posix()] += 1
    return out


def current() -> dict:
    return {"ruff": dict(sorted(ruff_findings().items())), "mypy": dict(sorted(mypy_findings().items())),
            "format": unformatted()}


def problems(now: dict, base: dict) -> list[str]:
    out = []
    for tool in ("ruff", "mypy"):
        for mod, n in now[tool].items():
            allowed = base.get(tool, {}).get(mod, 0)
            if n > allowed:
                out.append(f"{tool}: {mod} has {n} findings, the baseline allows {allowed}")
    for mod in now["format"]:
        if mod not in base.get("format", []):
            out.append(f"ruff format: {mod} is not formatted (run: ruff format {mod})")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--update", action="store_true", help="lower the baseline to today's counts")
    args = ap.parse_args(argv)
    now = current()
    base = json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.exists() else {}
    bad = problems(now, base)
    if args.update:
        if bad and base:
            print("\n".join(bad), "\nthe baseline only shrinks: fix these first", sep="\n")
            return 1
        new = {tool: {m: n for m, n in now[tool].items() if n} for tool in ("ruff", "mypy")}
        new["format"] = now["format"]
        BASELINE.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"baseline: {sum(new['ruff'].values())} ruff, {sum(new['mypy'].values())} mypy findings, "
              f"{len(new['format'])} files to format")
        return 0
    for line in bad:
        print(line)
    print(f"lint: {sum(now['ruff'].values())} ruff and {sum(now['mypy'].values())} mypy findings, "
          f"{len(now['format'])} files not yet formatted — {'over' if bad else 'within'} the baseline")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
