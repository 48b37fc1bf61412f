import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Tests never reach a model hub, and default to the draft backend unless a test says otherwise.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DOCGEN_BACKEND", "draft")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "docgen-cache"))


# Hypothesis profiles for tests/test_properties.py: `ci` (default) keeps the suite fast; `slow` is the long run
# (HYPOTHESIS_PROFILE=slow python3 -m pytest tests/test_properties.py).
try:
    from hypothesis import settings as _hyp_settings
except ImportError:          # the property tests need the `test` extra
    pass
else:
    # derandomized: the same examples on every run, so a red suite means a change, not a lucky draw
    _hyp_settings.register_profile("ci", max_examples=12, deadline=None, derandomize=True, print_blob=True)
    # HYPOTHESIS_EXAMPLES sets a shorter soak of the same profile (a stated number of examples)
    _hyp_settings.register_profile("slow", max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "10000")),
                                   deadline=None, print_blob=True)
    _hyp_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
