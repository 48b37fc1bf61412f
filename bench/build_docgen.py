"""docgen builder for the anchor benchmark: the document of ../shared/bench/content.py as a docgen spec.
usage: build_docgen.py OUT.pdf [REPEATS] [LAYOUT]  -> one JSON line, the same contract as the peers' builders
(import_s, build_s: [cold, warm…], pages)."""
import json
import os
import sys
import time

T0 = time.time()
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_BENCH = os.environ.get("DOCGEN_SHARED_BENCH", os.path.join(HERE, "..", "..", "shared", "bench"))
sys.path.insert(0, SHARED_BENCH)
import docgen  # noqa: E402
from content import make_doc  # noqa: E402


def spec_of(doc, layout):
    body = []
    for b in doc.blocks:
        if b.kind == "heading":
            body.append({"heading": {"text": b.text, "level": b.level}})
        elif b.kind == "para":
            body.append({"paragraph": b.text})
        else:
            body.append({"table": {"header": b.header, "rows": b.rows, "widths": [22, 58, 22, 28, 30],
                                   "align": ["left", "left", "right", "right", "right"]}})
    return {"layout": layout, "languages": ["zh", "en"], "bilingual": "stacked",
            "meta": {"title": doc.title, "date": "2026-11-28"}, "body": body}


def build(out, seed, layout):
    t0 = time.time()
    res = docgen.render(spec_of(make_doc(seed=seed), layout), out=out)
    return time.time() - t0, res.pages


if __name__ == "__main__":
    T1 = time.time()
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    # the benchmark layout lives beside this script: a shared layout folder, by name
    os.environ["DOCGEN_LAYOUT_PATH"] = os.path.join(HERE, "layouts")
    layout = sys.argv[3] if len(sys.argv) > 3 else "bench"
    R = [build(sys.argv[1], 42 + i, layout) for i in range(n)]
    print(json.dumps(dict(engine="docgen", import_s=T1 - T0, build_s=[r[0] for r in R], pages=R[0][1])))
