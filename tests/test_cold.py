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
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("docgen.regions", "tomllib")))))
"""


def test_a_render_without_local_weights_imports_no_model_or_hub_client(tmp_path):
    # backend auto, a spec with generated regions, no Qwen-Image weights in the (empty) Hugging Face cache:
    # draft pictures, and neither torch nor huggingface_hub's client (0.4 s) is imported to find that out
    env = {k: v for k, v in os.environ.items() if k != "DOCGEN_BACKEND"}
    env.update(
        HF_HUB_CACHE=str(tmp_path / "hf"), HF_HOME=str(tmp_path / "hfhome"), DOCGEN_CACHE_DIR=str(tmp_path / "c"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),       # no config file
    )
    env.pop("DOCGEN_CONFIG", None)
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(EXAMPLES / "west-lake-guide.yaml"), str(tmp_path / "o.pdf")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(run.stdout.strip().splitlines()[-2])
    assert [m for m in loaded if m not in ("huggingface_hub", "huggingface_hub.constants")] == [], loaded
    # nor Qwen-Image's loader, its memory rules and planner, or a TOML parser for a config file that is not there
    ours = json.loads(run.stdout.strip().splitlines()[-1])
    assert "docgen.regions.qwen.weights" in ours, ours          # the weights were looked for
    assert not {"docgen.regions.plan", "docgen.regions.qwen.load", "docgen.regions.qwen.memory", "tomllib"} & set(ours)
    assert (tmp_path / "o.pdf").read_bytes().startswith(b"%PDF-")


def _modules_after(code: str) -> set[str]:
    run = subprocess.run([sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(run.stdout.strip().splitlines()[-1]))


def test_importing_docgen_loads_no_library_until_a_name_is_used():
    # a service that imports docgen pays nothing until it renders; the first use of a name loads its module
    heavy = {"pydantic", "reportlab", "pypdf", "jinja2", "yaml", "PIL"}
    assert not {m.split(".")[0] for m in _modules_after("import docgen")} & heavy
    used = _modules_after("import docgen\ndocgen.DocgenError")
    assert "docgen.errors" in used and not {m.split(".")[0] for m in used} & heavy
    assert "pydantic" in _modules_after("import docgen\ndocgen.Document")


def test_docgen_render_stays_the_function_when_its_module_is_imported():
    # docgen/render.py is also a submodule named render: importing it (as the CLI and the batch runner do)
    # must not turn docgen.render into the module
    code = ("import docgen, docgen.render as r\nfrom docgen.render import render_document\n"
            "from docgen import *\n"
            "assert callable(docgen.render) and docgen.render is render and r is render, docgen.render\n"
            "assert docgen.Document.__name__ == 'Document' and 'render' in dir(docgen)\n"
            "try:\n    docgen.no_such_name\nexcept AttributeError as e:\n    assert 'no_such_name' in str(e)\n"
            "else:\n    raise SystemExit('no AttributeError')")
    _modules_after(code)


def test_the_command_called_from_a_program_leaves_the_garbage_collector_alone(tmp_path, monkeypatch):
    # main([...]) is what programs and tests call: only a process started to run the command (argv None)
    # pauses and freezes the collector at its start
    import gc

    from docgen.cli import main

    monkeypatch.setenv("DOCGEN_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    frozen = gc.get_freeze_count()
    assert main(["validate", str(EXAMPLES / "west-lake-guide.yaml")]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    assert "PYDANTIC_DISABLE_PLUGINS" not in os.environ          # nor the environment


def test_the_command_run_as_a_process_renders_with_its_start_settled(tmp_path):
    # python -m docgen (argv None): modules imported with the collector paused, then frozen; the render is
    # the same file, and the collector is running again while it renders
    probe = ("import gc, sys, runpy\nimport docgen.render as _\nimport docgen.typeset.document as d\n"
             "orig = d.Typesetter.build\n"
             "def build(self, *a, **k):\n"
             "    assert gc.isenabled() and gc.get_freeze_count() > 10000, gc.get_freeze_count()\n"
             "    import os; assert os.environ['PYDANTIC_DISABLE_PLUGINS'] == '__all__'\n"
             "    return orig(self, *a, **k)\n"
             "d.Typesetter.build = build\n"
             "sys.argv = ['docgen'] + sys.argv[1:]\nrunpy.run_module('docgen', run_name='__main__')")
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    env["DOCGEN_CACHE_DIR"] = str(tmp_path / "c")
    out = tmp_path / "a.pdf"
    subprocess.run([sys.executable, "-c", probe, "render", str(EXAMPLES / "poster.yaml"), "-o", str(out), "-q"],
                   cwd=ROOT, env=env, check=True)
    import docgen
    assert out.read_bytes() == docgen.render(str(EXAMPLES / "poster.yaml")).pdf


def test_the_character_tests_that_replace_slow_to_compile_classes_agree_with_them():
    # a regular expression class over the CJK blocks takes milliseconds to compile in every process; the
    # plain tests that replace them must match exactly what the classes matched, block edges included
    import random
    import re

    from docgen.layout.tree import _cjk_words
    from docgen.typeset.titles import _han_runs, _is_han

    cjk = re.compile("[\u2e80-\u2fdf\u3040-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
                     "\U00020000-\U0003ffff]")
    han = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
    edges = [0x20, 0x41, 0x2E7F, 0x2E80, 0x2FDF, 0x2FE0, 0x303F, 0x3040, 0x31FF, 0x3200, 0x33FF, 0x3400, 0x4DBF,
             0x4DC0, 0x4DFF, 0x4E00, 0x9FFF, 0xA000, 0xABFF, 0xAC00, 0xD7AF, 0xD7B0, 0xF8FF, 0xF900, 0xFAFF,
             0xFB00, 0x1FFFF, 0x20000, 0x3FFFF, 0x40000]
    rng = random.Random(7)
    for _ in range(5000):
        t = "".join(chr(rng.choice(edges)) for _ in range(rng.randint(0, 12)))
        assert _cjk_words(t) == len(cjk.findall(t)), ascii(t)
        assert _han_runs(t) == [m.span() for m in re.finditer(han + "{2,}", t)], ascii(t)
        assert any(map(_is_han, t)) == bool(re.search(han, t)), ascii(t)
