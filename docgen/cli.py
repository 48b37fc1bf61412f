"""The ``docgen`` command: render, validate, layouts, schema, doctor, cache.

Exit codes: 0 ok, 1 render failure, 2 invalid input.  User mistakes print a clear message, never a
traceback (``DOCGEN_DEBUG=1`` shows one).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .errors import DocgenError, SpecError


def _out_path(spec: Path, out: str | None, edition: str, many: bool) -> Path:
    base = Path(out) if out else spec.with_suffix(".pdf")
    if many:
        return base.with_name(f"{base.stem}.{edition}{base.suffix or '.pdf'}")
    return base


def cmd_render(a) -> int:
    from .render import editions_of, load, render_document
    doc, root = load(Path(a.spec))
    if a.edition == "all":
        editions = editions_of(doc)
    else:
        editions = [a.edition or doc.mode]
    cfg = _model_config(a)
    backend = None
    if any(g.get("generate") for g in [doc.cover.model_dump() if doc.cover else {}]) or any(
            getattr(b, "generate", None) is not None for b in doc.body):
        from .regions import get_backend
        backend, why = get_backend(config=cfg)     # loaded once, shared by every edition
        if why:
            print(f"warning: generated regions use the draft backend (placeholders): {why}", file=sys.stderr)
    for ed in editions:
        out = _out_path(Path(a.spec), a.output, ed, len(editions) > 1)
        res = render_document(doc, root, out=None, edition=ed, backend=backend, model_config=cfg)
        res.save(out)
        for w in res.warnings:
            print(f"warning: {w}", file=sys.stderr)
        if a.strict and res.warnings:
            out.unlink()
            print("error: --strict: warnings are errors; no PDF written", file=sys.stderr)
            return 1
        print(f"{out}  ({res.pages} pages, edition {ed})")
        for r in res.regions:
            print(f"  region {r['id']}: {r.get('backend')} {r['width']}x{r['height']} seed {r['seed']}"
                  f" path {r.get('path', '-')}")
        if a.preview:
            from .preview import write_pngs
            pngs = write_pngs(res.pdf, Path(a.preview), prefix=out.stem)
            print(f"  preview: {len(pngs)} PNG in {a.preview}")
    return 0


def _add_model_flags(p) -> None:
    g = p.add_argument_group("image model (override env vars and ~/.config/docgen/config.toml)")
    g.add_argument("--backend", choices=["auto", "draft", "qwen-image"], help="region backend (default: auto)")
    g.add_argument("--model", help="Qwen-Image weights: a local folder or a repo id in the local HF cache")
    g.add_argument("--revision", help="weights revision (HF cache snapshot)")
    g.add_argument("--dtype", choices=["bfloat16", "float16", "float32"])
    g.add_argument("--memory-mode", choices=["auto", "none", "model-offload", "group-offload", "dfloat11"])
    g.add_argument("--df11-model", help="DFloat11 weights (folder or repo id in the local HF cache)")
    g.add_argument("--steps", type=int)


def _model_config(a):
    from .regions.config import ModelConfig
    keys = ("backend", "model", "revision", "dtype", "memory_mode", "df11_model", "steps")
    return ModelConfig.from_env({k: getattr(a, k, None) for k in keys})


def cmd_validate(a) -> int:
    from .render import load
    doc, _ = load(Path(a.spec))
    print(f"{a.spec}: ok (layout {doc.layout}, {len(doc.body)} blocks, languages {', '.join(doc.languages)}, "
          f"mode {doc.mode})")
    return 0


def cmd_layouts(a) -> int:
    from .layout import available
    for lay in available():
        print(f"{lay.name:12s} {lay.description}")
    return 0


def cmd_schema(a) -> int:
    from .spec.models import Document
    schema = Document.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "docgen document spec"
    print(json.dumps(schema, ensure_ascii=False, indent=2))
    return 0


def cmd_doctor(a) -> int:
    from .regions.doctor import report
    for item, status, detail in report(_model_config(a)):
        print(f"{item:22s} {status:8s} {detail}")
    return 0


def cmd_cache(a) -> int:
    from .regions.cache import RegionCache
    cache = RegionCache.from_config(_model_config(a))
    if a.action == "clear":
        n = cache.clear()
        print(f"removed {n} entries from {cache.root}")
    else:
        info = cache.info()
        print(f"path      {info.path}\nentries   {info.entries}\nsize      {info.bytes / 1e6:.1f} MB"
              f" (cap {info.max_bytes / 1e9:.1f} GB)")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="docgen", description="Typeset bilingual Chinese/English PDFs from specs.")
    p.add_argument("--version", action="version", version=f"docgen {__import__('docgen').__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("render", help="render a YAML spec to PDF")
    r.add_argument("spec")
    r.add_argument("-o", "--output", help="output PDF (default: the spec's name with .pdf)")
    r.add_argument("--edition", choices=["parallel", "stacked", "zh", "en", "all"],
                   help="which edition (default: the spec's bilingual mode); all = every edition")
    r.add_argument("--preview", metavar="DIR", help="also write a PNG of each page into DIR")
    r.add_argument("--strict", action="store_true", help="treat warnings (e.g. missing glyphs) as errors")
    _add_model_flags(r)
    r.set_defaults(fn=cmd_render)

    v = sub.add_parser("validate", help="check a spec without rendering")
    v.add_argument("spec")
    v.set_defaults(fn=cmd_validate)

    sub.add_parser("layouts", help="list installed layouts").set_defaults(fn=cmd_layouts)
    sub.add_parser("schema", help="print the spec's JSON Schema (for editor autocompletion)").set_defaults(
        fn=cmd_schema)
    d = sub.add_parser("doctor", help="report GPU, weights and libraries for the image model")
    _add_model_flags(d)
    d.set_defaults(fn=cmd_doctor)
    c = sub.add_parser("cache", help="generated-image cache")
    c.add_argument("action", choices=["info", "clear"])
    c.set_defaults(fn=cmd_cache)
    a = p.parse_args(argv)
    try:
        return a.fn(a)
    except SpecError as e:
        for prob in e.problems:
            print(f"error: {prob}", file=sys.stderr)
        return 2
    except DocgenError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as e:   # a bug in docgen, not the user's fault: say so, briefly
        if os.environ.get("DOCGEN_DEBUG"):
            raise
        print(f"internal error: {type(e).__name__}: {e} (set DOCGEN_DEBUG=1 for a traceback; please report it)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
