"""docgen.render from many threads at once: every render succeeds and gives the same bytes as alone.

The threads run in a fresh interpreter, so fonts, ReportLab's font registry, fontTools tables and the
typesetter's caches all start cold: the first round is where unlocked lazy loading shows."""
import json
import subprocess
import sys
import textwrap

from conftest import EXAMPLES, ROOT

ROUNDS = 6

# small inline specs beside the examples: English-only text (Latin word caches, hyphenation), a table
# with digits and full-width punctuation (ink boxes for punctuation squeezing), mono code
INLINE = [
    {"languages": ["en"], "meta": {"title": "Threads"},
     "body": [{"heading": "Concurrency"}, {"paragraph": "Rendering documents concurrently must be "
              "indistinguishable from rendering them one after another, hyphenation included. " * 6},
              {"paragraph": "Inline `code` and **bold** and *italic* words."}]},
    {"languages": ["zh"], "meta": {"title": "线程"},
     "body": [{"paragraph": "并发渲染：每一份文档，（无论何时）都应与单独渲染时完全相同。“引号”《书名》……" * 4},
              {"table": {"header": ["项目", "数值"], "rows": [["甲，乙", "12.5%"], ["丙；丁", "3,400"]]}}]},
]

SCRIPT = textwrap.dedent("""\
    import json, sys, threading
    sys.path.insert(0, ROOT)
    import docgen
    from docgen.regions import DraftBackend
    specs = json.loads(sys.argv[1])
    rounds = int(sys.argv[2])
    out, errors = {}, []

    def work(i, r):
        try:
            out[(i, r)] = docgen.render(specs[i], backend=DraftBackend()).pdf
        except Exception as e:
            errors.append(f"spec {i} round {r}: {type(e).__name__}: {e}")

    for r in range(rounds):
        threads = [threading.Thread(target=work, args=(i, r)) for i in range(len(specs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    serial = [docgen.render(s, backend=DraftBackend()).pdf for s in specs]
    differ = sorted({i for (i, r), pdf in out.items() if pdf != serial[i]})
    print(json.dumps({"errors": errors, "differ": differ, "renders": len(out)}))
""").replace("ROOT", repr(str(ROOT)))


def test_renders_on_eight_threads_match_serial_renders(tmp_path):
    examples = [str(p) for p in sorted(EXAMPLES.glob("*.yaml"))]
    examples.append(str(EXAMPLES / "sales-report" / "sales-report.yaml"))
    specs = (examples + INLINE)[:8]
    assert len(specs) == 8
    env = {"DOCGEN_CACHE_DIR": str(tmp_path / "cache"), "DOCGEN_BACKEND": "draft", "HF_HUB_OFFLINE": "1",
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(specs), str(ROUNDS)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["errors"] == []
    assert got["differ"] == []
    assert got["renders"] == 8 * ROUNDS
