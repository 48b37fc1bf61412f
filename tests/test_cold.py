"""A cold render imports only what its spec needs (issue 15, item 9; figures: python3 bench/cold.py)."""

import json
import os
import subprocess
import sys

from conftest import EXAMPLES, ROOT

PROBE = """
import json, sys
import docgen
docgen.render(sys.argv[1], out=sys.argv[2])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "diffusers", "huggingface_hub",
                                                                       "httpx", "httpcore", "transformers"))))
"""


def test_a_render_without_local_weights_imports_no_model_or_hub_client(tmp_path):
    # backend auto, a spec with generated regions, no Qwen-Image weights in the (empty) Hugging Face cache:
    # draft pictures, and neither torch nor huggingface_hub's client (0.4 s) is imported to find that out
    env = {k: v for k, v in os.environ.items() if k != "DOCGEN_BACKEND"}
    env.update(
        HF_HUB_CACHE=str(tmp_path / "hf"), HF_HOME=str(tmp_path / "hfhome"), DOCGEN_CACHE_DIR=str(tmp_path / "c")
    )
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(EXAMPLES / "west-lake-guide.yaml"), str(tmp_path / "o.pdf")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(run.stdout.strip().splitlines()[-1])
    assert [m for m in loaded if m not in ("huggingface_hub", "huggingface_hub.constants")] == [], loaded
    assert (tmp_path / "o.pdf").read_bytes().startswith(b"%PDF-")
