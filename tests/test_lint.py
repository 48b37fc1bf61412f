"""ruff and mypy over docgen/: no module has more findings than .ci/lint-baseline.json allows (the baseline
only shrinks; new modules start clean and formatted).  ``python3 tools/lint.py`` prints the same."""
from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import lint  # noqa: E402


@pytest.mark.skipif(not (importlib.util.find_spec("ruff") or shutil.which("ruff")) or not importlib.util.find_spec("mypy"),
                    reason="ruff and mypy come with the test extra")
def test_findings_stay_within_the_baseline():
    base = json.loads(lint.BASELINE.read_text(encoding="utf-8"))
    bad = lint.problems(lint.current(), base)
    assert not bad, "\n".join(bad)


def test_the_baseline_never_grows(tmp_path):
    base = {"ruff": {"docgen/a.py": 2}, "mypy": {}, "format": ["docgen/a.py"]}
    assert lint.problems({"ruff": {"docgen/a.py": 2}, "mypy": {}, "format": []}, base) == []
    assert lint.problems({"ruff": {"docgen/a.py": 3}, "mypy": {}, "format": []}, base)
    assert lint.problems({"ruff": {}, "mypy": {"docgen/b.py": 1}, "format": []}, base)
    assert lint.problems({"ruff": {}, "mypy": {}, "format": ["docgen/b.py"]}, base)
