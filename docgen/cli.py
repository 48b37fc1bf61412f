"""The ``docgen`` command: render, validate, layouts, schema, doctor, cache, batch, schedule.

Exit codes: 0 ok, 1 render failure, 2 invalid input.  User mistakes print a clear message, never a
traceback (``DOCGEN_DEBUG=1`` shows one).
"""
from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import re
import sys
from pathlib import Path

from .errors import DocgenError, SpecError


# what a terminal must not receive raw: control characters (ESC starts a terminal command) and the
# bidi controls that make text read differently from what it is
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                          "\ud800-\udfff]")


def printable(text) -> str:
    """``text`` with control and bidi characters written as escapes (``\\x1b``, ``\\u202e``)."""
    def esc(m):
        c = ord(m.group())
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    return _UNPRINTABLE.sub(esc, str(text))


def say(text, *, err: bool = False) -> None:
    print(printable(text), file=sys.stderr if err else sys.stdout)


def _out_path(spec: Path, out: str | None, edition: str, many: bool) -> Path:
    base = Path(out) if out else spec.with_suffix(".pdf")
    if many:
        return base.with_name(f"{base.stem}.{edition}{base.suffix or '.pdf'}")
    return base


def _load_spec(name: str):
    """The spec named on the command line: a YAML file, or ``-`` for standard input (paths relative to
    the working directory) -> (Document, its folder, what a child process is sent: the path or the data)."""
    from .render import load
    if name == "-":
        from .spec.load import parse_yaml, validate
        data, pos = parse_yaml(sys.stdin.read(), "<stdin>")
        doc = validate(data, pos, "<stdin>")
        doc._source = ("<stdin>", pos)
        return doc, Path.cwd(), data
    return (*load(Path(name)), Path(name))


def _size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a size such as 512M or 2G")
    return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2).lower() or " "))


def _pages(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of pages, at least 1, not {text!r}")
    return int(text)


def _limits(a):
    """The child-process limits (--max-seconds, --max-memory); None when the render runs in this process."""
    if a.max_seconds is None and a.max_memory is None:
        return None
    from .spec.limits import Limits
    return Limits(seconds=a.max_seconds, memory=a.max_memory, pages=a.max_pages)


def cmd_render(a) -> int:
    from .data import parse_assignments
    from .render import editions_of, render, render_document
    doc, root, source = _load_spec(a.spec)
    params = parse_assignments(a.param)
    if a.edition == "all":
        editions = editions_of(doc, root)
    else:
        editions = [a.edition or doc.mode]
    to_stdout = a.output == "-"
    if to_stdout and (len(editions) > 1 or a.json):
        print("error: -o - writes one PDF to standard output: not with --edition all or --json", file=sys.stderr)
        return 2
    info = sys.stderr if to_stdout or a.json else sys.stdout       # stdout carries the PDF or the JSON
    quiet = a.quiet and not a.verbose
    cfg = _model_config(a)
    limits = _limits(a)
    backend = None
    if limits is None and (any(g.get("generate") for g in [doc.cover.model_dump() if doc.cover else {}]) or any(
            getattr(b, "generate", None) is not None for b in doc.body)):
        from .regions import get_backend
        backend, why = get_backend(config=cfg)     # loaded once, shared by every edition
        if why and not quiet:
            say(f"warning: generated regions use the draft backend (placeholders): {why}", err=True)
    # every edition is rendered before any file is written: a failure (or --strict) leaves no half set
    results = []
    for ed in editions:
        if limits is not None:                     # a child process per edition, stopped at the limits
            res = render(source, base_dir=root, edition=ed, params=params, model_config=cfg, limits=limits,
                         backend=a.backend, pdfa=a.pdfa, pdfua=a.pdfua, tagged=a.tagged or None)
        else:
            res = render_document(doc, root, out=None, edition=ed, backend=backend, model_config=cfg,
                                  params=params, pdfa=a.pdfa, pdfua=a.pdfua, tagged=a.tagged or None,
                                  max_pages=a.max_pages)
        if not quiet:
            for w in res.warnings:
                say(f"warning: {w}", err=True)
        if a.strict and res.warnings:
            print("error: --strict: warnings are errors; no PDF written", file=sys.stderr)
            return 1
        results.append((ed, res))
    failed = False
    report = []
    spec_path = Path("document.yaml" if a.spec == "-" else a.spec)
    for ed, res in results:
        if to_stdout:
            sys.stdout.buffer.write(res.pdf)
            sys.stdout.buffer.flush()
            out = None
        else:
            out = _out_path(spec_path, a.output, ed, len(editions) > 1)
            res.save(out)
        if not quiet:
            print(printable(f"{out or '<stdout>'}  ({res.pages} pages, edition {ed})"), file=info)
        if a.check and not _print_check(res.pdf, a.check, a.tol_mm, info, quiet):
            failed = True
        if a.verbose:
            for r in res.regions:
                print(printable(f"  region {r['id']}: {r.get('backend')} {r['width']}x{r['height']} seed "
                                f"{r['seed']} path {r.get('path', '-')}"), file=info)
            for level, text, page in res.headings:
                print(printable(f"  {'  ' * (level - 1)}{text}  p. {page}"), file=info)
        elif not quiet:
            for r in res.regions:
                print(printable(f"  region {r['id']}: {r.get('backend')} {r['width']}x{r['height']} seed "
                                f"{r['seed']} path {r.get('path', '-')}"), file=info)
        if a.preview:
            from .preview import write_pngs
            pngs = write_pngs(res.pdf, Path(a.preview), prefix=out.stem if out else spec_path.stem)
            if not quiet:
                print(printable(f"  preview: {len(pngs)} PNG in {a.preview}"), file=info)
        report.append({"path": str(out) if out else None, "edition": ed, "pages": res.pages, "bytes": len(res.pdf),
                       "warnings": res.warnings, "regions": res.regions,
                       "headings": [{"level": lv, "text": t, "page": pg} for lv, t, pg in res.headings]})
    if a.json:
        print(json.dumps({"spec": a.spec, "ok": not failed, "documents": report}, ensure_ascii=False, indent=1,
                         default=str))
    return 1 if failed else 0


def _print_check(pdf, standard: str, tol_mm: float, file=None, quiet: bool = False, fmt: str | None = None) -> bool:
    """Run a conformance check and print each violation (to ``file``, default stdout, unless ``quiet``);
    True when there is none."""
    from .check import CheckError, check_pdf
    try:
        report = check_pdf(pdf, standard, tol_mm=tol_mm, fmt=fmt)
    except CheckError as e:
        err = DocgenError(str(e))
        err.exit_code = e.exit_code          # an unreadable PDF is bad input: exit 2
        raise err from None
    if not quiet:
        # the 公文 format first: what it was measured as, and why
        for line in [i for i in report.infos if i.startswith("format ")] + report.lines():
            print(printable(f"  {line}"), file=file or sys.stdout)
    return report.ok


def cmd_check(a) -> int:
    if a.pdf == "-":
        return 0 if _print_check(sys.stdin.buffer.read(), a.standard, a.tol_mm, fmt=a.fmt) else 1
    path = Path(a.pdf)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    print(path)
    return 0 if _print_check(path.read_bytes(), a.standard, a.tol_mm, fmt=a.fmt) else 1


def _add_model_flags(p) -> None:
    g = p.add_argument_group("image model (override env vars and the config file, "
                             "~/.config/docgen/config.toml on Linux)")
    from .regions.registry import AUTO, backend_names
    g.add_argument("--backend", choices=[AUTO, *backend_names()], help="region backend (default: auto)")
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
    from .data import parse_assignments
    from .render import check_document
    doc, root, _ = _load_spec(a.spec)
    check_document(doc, root, params=parse_assignments(getattr(a, "param", None)))
    say(f"{a.spec}: ok (layout {doc.layout}, {len(doc.body)} blocks, languages {', '.join(doc.languages)}, "
          f"mode {doc.mode})")
    return 0


def cmd_layouts(a) -> int:
    from .layout import available
    for lay in available():
        print(f"{lay.name:12s} {lay.description}")
    return 0


SCHEMAS = {"spec": "docgen document spec", "theme": "docgen layout theme (theme.yaml)",
           "jobs": "docgen schedule jobs file"}


def json_schema(kind: str = "spec") -> dict:
    """The JSON Schema of a spec, a layout's theme.yaml or a jobs file, generated from the models that
    validate them (so the schema and the validation cannot disagree)."""
    from pydantic import BaseModel

    from .spec.models import Document
    from .spec.theme import Theme
    model: type[BaseModel]
    if kind == "jobs":
        from .batch.schedule import JobsFile
        model = JobsFile
    else:
        model = Theme if kind == "theme" else Document
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = SCHEMAS[kind]
    return schema


def cmd_schema(a) -> int:
    kind = "theme" if a.theme else "jobs" if a.jobs else "spec"
    print(json.dumps(json_schema(kind), ensure_ascii=False, indent=2))
    return 0


def _role_rows(spec: str | None) -> list[tuple[str, str, str]]:
    """``docgen doctor``'s font roles: for each 公文 typeface role, the font the theme (the gongwen
    layout's, with ``spec``'s overrides) draws it in, and the installed fonts whose names fit the role,
    each with its coverage of the 通用规范汉字表."""
    from .layout import find, load_theme
    from .layout.theme import FONT_ROLES
    from .typeset import fonts as F
    root, overrides = Path.cwd(), {}      # type: ignore[var-annotated]
    layout = "gongwen"
    if spec:
        doc, root, _ = _load_spec(spec)
        overrides, layout = doc.theme or {}, doc.layout
    theme = load_theme(find(layout, root), overrides, root)
    tgh = F.tgh_chars()
    rows = []
    sets = {"body": theme.fonts.body, "heading": theme.fonts.heading, **theme.fonts.extra}
    for role in FONT_ROLES:
        names = [n for n, fs in sets.items() if fs is not None and fs.role == role]
        chosen = None
        for i, e in enumerate(theme.fonts.roles.get(role) or []):  # type: ignore[call-overload]
            path = e if isinstance(e, str) else e.regular
            if F._installed_here(path, root):
                chosen = f"theme.fonts.roles.{role}.{i}: {path}"
                break
        if chosen is None:
            own = [fs.cjk[0].regular for fs in (sets[n] for n in names) if fs is not None]
            status = "stand-in" if own else "missing"
            chosen = (f"not named by the theme: {', '.join(own)} (fonts.{names[0]}.cjk.0)" if own
                      else "no font set of the theme plays it")
        else:
            status = "ok"
        rows.append((f"font role {role}", status, f"{chosen}; styles' font set: {', '.join(names) or 'none'}"))
        fits = [(F.coverage_of(f, tgh), f) for f in F.fonts_for_role(role)]
        fits = sorted(((n, f) for n, f in fits if n >= 1000), key=lambda x: (-x[0], not x[1].bundled, x[1].path))
        for n, f in fits[:8]:              # a CJK font at all: most of the 通用规范汉字表
            rows.append(("", "bundled" if f.bundled else "installed",
                         f"{f.path}{'#' + str(f.index) if f.index else ''} ({f.family} {f.style}): "
                         f"{n} of the {len(tgh)} 通用规范汉字"))
        if len(fits) > 8:
            rows.append(("", "", f"… and {len(fits) - 8} more"))
    return rows


def cmd_doctor(a) -> int:
    if a.fonts:
        for item, status, detail in _role_rows(a.spec):
            say(f"{item:22s} {status:9s} {detail}")
        return 0
    if a.plan:
        from .regions.doctor import plan_report
        print(plan_report(a.vram, a.ram, a.size, a.df11, a.verbose))
        return 0
    from .regions.doctor import report
    for item, status, detail in report(_model_config(a)):
        print(f"{item:22s} {status:8s} {detail}")
    try:
        rows = _role_rows(a.spec)
    except DocgenError as e:
        rows = [("font roles", "warn", str(e))]
    for item, status, detail in rows:
        say(f"{item:22s} {status:8s} {detail}")
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


def cmd_batch(a) -> int:
    from .batch import run_batch
    rep = run_batch(a.spec, a.rows, a.out, engine=a.engine, workers=a.workers, backend=a.backend,
                    edition=a.edition, force=a.force, ray_address=a.ray_address, model_config=_model_config(a),
                    warn=lambda w: say(f"warning: {w}", err=True))       # each as soon as it is known
    for d in rep.documents:
        if d.status == "failed":
            say(f"failed: {d.output}: {d.error}", err=True)
    print(rep.summary())
    print(f"manifest: {rep.manifest}")
    return 1 if rep.failed else 0


def cmd_schedule(a) -> int:
    from .batch import schedule as S
    if a.action == "run":
        sched = S.Scheduler(a.jobs)
        print(f"scheduling {len(sched.jobs.jobs)} job(s) from {a.jobs} (store {sched.store}); Ctrl-C stops",
              file=sys.stderr)
        sched.run(duration=a.duration)
        return 0
    if a.action == "fire":
        if not a.job:
            print("error: schedule fire needs --job NAME", file=sys.stderr)
            return 2
        status = S.fire(a.jobs, a.job)
        run = S.history(a.jobs, a.job, limit=1)[0]
        say(f"{a.job}: {status} {' '.join(run['outputs'])}{('  ' + run['error']) if run['error'] else ''}")
        return 0 if status in ("ok", "skipped") else 1
    runs = S.history(a.jobs, a.job, a.limit)
    if a.json:
        print(json.dumps(runs, ensure_ascii=False, indent=1))
        return 0
    for r in runs:
        say(f"{r['id']:>5} {r['job']:16s} {r['status']:8s} scheduled {r['scheduled'] or '-'}  started "
            f"{r['started'] or '-'}  finished {r['finished'] or '-'}  {' '.join(r['outputs'])}"
            f"{('  ' + r['error']) if r['error'] else ''}")
    return 0


# what a command imports before it starts: docgen's modules and the libraries they load at their first use
_PRELOAD = {
    "render": ("docgen.render", "docgen.data", "docgen.regions.requests", "docgen.typeset.document", "docgen.pdf"),
    "validate": ("docgen.render",),
    "check": ("docgen.check",),
}


def _settle(cmd: str) -> None:
    """The start of a process that runs one command: its modules imported with the cyclic garbage collector
    paused (what they create lives as long as the process, and a collection in the middle of importing
    finds nothing to free), then frozen, so that later collections, during the render, no longer scan
    them.  A cold render spends ~70 ms less in the collector.  The collector runs as usual afterwards."""
    try:
        for name in _PRELOAD.get(cmd, ()):
            importlib.import_module(name)
    finally:
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    """The ``docgen`` command.  ``argv`` None: this process was started to run it (the console script,
    ``python -m docgen``), and its start is settled for speed (:func:`_settle`); called with a list (from a
    program, a test), nothing about the process changes."""
    entry = argv is None
    if entry:
        gc.disable()
        # Pydantic looks for plugins (observability hooks) by reading the entry points of every installed
        # package, ~8 ms here, before it builds docgen's first model; the command's models need none.  Set
        # PYDANTIC_DISABLE_PLUGINS (empty: every plugin) to choose otherwise.
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        return _main(argv, entry)
    finally:
        if entry and not gc.isenabled():
            gc.enable()


def _main(argv: list[str] | None, entry: bool) -> int:
    p = argparse.ArgumentParser(prog="docgen", description="Typeset bilingual Chinese/English PDFs from specs.")
    p.add_argument("--version", action="version", version=f"docgen {__import__('docgen').__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("render", help="render a YAML spec to PDF")
    r.add_argument("spec", help="the spec (YAML); - reads it from standard input")
    r.add_argument("-o", "--output", help="output PDF (default: the spec's name with .pdf); - writes it to "
                                          "standard output")
    r.add_argument("--edition", choices=["parallel", "stacked", "zh", "en", "all"],
                   help="which edition (default: the spec's bilingual mode); all = every edition")
    r.add_argument("--preview", metavar="DIR", help="also write a PNG of each page into DIR")
    r.add_argument("--strict", action="store_true", help="treat warnings (e.g. missing glyphs) as errors")
    r.add_argument("--param", action="append", metavar="NAME=VALUE", help="a parameter of the spec (repeatable)")
    r.add_argument("--pdfa", action="store_true", help="an archival PDF/A-2b file")
    r.add_argument("--pdfua", action="store_true",
                   help="a tagged PDF claiming PDF/UA-1 (a picture without alt: is an error)")
    r.add_argument("--tagged", action="store_true", help="a tagged PDF (structure tree) without the PDF/UA claim")
    r.add_argument("--check", choices=["clreq", "gbt9704", "pdfua", "pdfa"], metavar="STANDARD",
                   help="check the PDF against clreq, gbt9704 (GB/T 9704 公文), pdfua or pdfa; exit 1 on violations")
    r.add_argument("--tol-mm", type=float, default=1.0, help=argparse.SUPPRESS)
    r.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    r.add_argument("-v", "--verbose", action="store_true", help="also print each heading with its page")
    r.add_argument("--json", action="store_true", help="print a JSON report of the render (paths, pages, "
                                                       "warnings, regions, headings) on standard output")
    lg = r.add_argument_group("limits (the render runs in a child process, stopped at a limit)")
    lg.add_argument("--max-seconds", type=float, metavar="S", help="stop a render that runs longer")
    lg.add_argument("--max-memory", type=_size, metavar="SIZE", help="stop a render that needs more, e.g. 2G")
    lg.add_argument("--max-pages", type=_pages, metavar="N",
                    help="refuse an edition longer than N pages (default 10,000; in this process)")
    _add_model_flags(r)
    r.set_defaults(fn=cmd_render)

    k = sub.add_parser("check", help="measure a PDF against a standard: clreq line breaks, or gbt9704 (公文)")
    k.add_argument("pdf", help="the PDF; - reads it from standard input")
    k.add_argument("--standard", choices=["clreq", "gbt9704", "pdfua", "pdfa"], default="clreq",
                   help="clreq (default): CLREQ line-break rules; gbt9704: GB/T 9704-2012 geometry and CLREQ; "
                        "pdfua: the machine-checkable part of PDF/UA-1; pdfa: of PDF/A-2b")
    k.add_argument("--tol-mm", type=float, default=1.0, help="positional tolerance in mm (default 1.0, the standard's)")
    k.add_argument("--format", choices=["wenjian", "xinhan", "mingling", "jiyao"], dest="fmt",
                   help="gbt9704: the 公文's format — 文件格式, 信函格式, 命令格式, 纪要格式 (default: detected)")
    k.set_defaults(fn=cmd_check)

    b = sub.add_parser("batch", help="render a spec once per row of a CSV/JSON/YAML file")
    b.add_argument("spec")
    b.add_argument("--rows", required=True, help="CSV (header row), JSON or YAML list: one document per row")
    b.add_argument("--out", required=True, help="output pattern, e.g. 'out/{id}.pdf' (row values by name)")
    b.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local process pool (default) or Ray (pip install 'docgen[ray]')")
    b.add_argument("--workers", type=int, help="worker processes (default: the number of cores)")
    b.add_argument("--ray-address", help="Ray cluster address (default: start a local Ray instance)")
    b.add_argument("--edition", choices=["parallel", "stacked", "zh", "en"])
    b.add_argument("--force", action="store_true", help="render every row, even unchanged ones")
    _add_model_flags(b)
    b.set_defaults(fn=cmd_batch)

    s = sub.add_parser("schedule", help="render specs on cron schedules (APScheduler) and show their history")
    s.add_argument("action", choices=["run", "history", "fire"],
                   help="run: schedule the jobs until stopped; history: past runs; fire: run one job now")
    s.add_argument("jobs", help="jobs file (YAML)")
    s.add_argument("--job", help="history/fire: one job's name")
    s.add_argument("--limit", type=int, default=50, help="history: at most this many runs (default 50)")
    s.add_argument("--json", action="store_true", help="history: as JSON")
    s.add_argument("--for", dest="duration", type=float, help="run: stop after this many seconds")
    s.set_defaults(fn=cmd_schedule)

    v = sub.add_parser("validate", help="check a spec (data, assets, layout, theme) without rendering")
    v.add_argument("spec", help="the spec (YAML); - reads it from standard input")
    v.add_argument("--param", action="append", metavar="NAME=VALUE", help="a parameter value (repeatable)")
    v.set_defaults(fn=cmd_validate)

    sub.add_parser("layouts", help="list installed layouts").set_defaults(fn=cmd_layouts)
    sc = sub.add_parser("schema", help="print the spec's JSON Schema (for editor autocompletion)")
    kinds = sc.add_mutually_exclusive_group()
    kinds.add_argument("--theme", action="store_true", help="print the JSON Schema of a layout's theme.yaml instead")
    kinds.add_argument("--jobs", action="store_true", help="print the JSON Schema of a schedule's jobs file instead")
    sc.set_defaults(fn=cmd_schema)
    d = sub.add_parser("doctor", help="report GPU, weights and libraries for the image model")
    _add_model_flags(d)
    g = d.add_argument_group("memory plan")
    g.add_argument("--plan", action="store_true", help="print the memory planner's table for every memory mode")
    g.add_argument("--vram", type=float, metavar="GB", help="plan for this much GPU memory (default: detected)")
    g.add_argument("--ram", type=float, metavar="GB", help="plan for this much host RAM (default: detected)")
    g.add_argument("--size", default="1328x1328", metavar="WxH", help="picture size (default 1328x1328)")
    g.add_argument("--df11", action=argparse.BooleanOptionalAction, default=None,
                   help="DFloat11 weights available (default: assume so and mark the rows that need them)")
    g.add_argument("--verbose", action="store_true", help="itemise every mode, not only the chosen one")
    g = d.add_argument_group("fonts")
    g.add_argument("--fonts", action="store_true", help="only list the 公文 font roles (仿宋, 小标宋, 黑体, 楷体): "
                   "the font the theme uses for each and the installed fonts that fit it")
    g.add_argument("--spec", metavar="SPEC", help="read the font roles from this spec's layout and theme "
                   "(default: the gongwen layout's theme)")
    d.set_defaults(fn=cmd_doctor)
    c = sub.add_parser("cache", help="generated-image cache")
    c.add_argument("action", choices=["info", "clear"])
    c.set_defaults(fn=cmd_cache)
    a = p.parse_args(argv)
    try:
        if entry:
            _settle(a.cmd)
        return a.fn(a)
    except SpecError as e:
        for prob in e.problems:
            say(f"error: {prob}", err=True)
        return 2
    except DocgenError as e:
        say(f"error: {e}", err=True)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:                 # `docgen … | head`: the reader left; stop quietly
        _silence_stdout()
        return 141
    except ModuleNotFoundError as e:        # an optional library: say which extra installs it
        extra = _EXTRAS.get((e.name or "").split(".")[0])
        if extra is None or os.environ.get("DOCGEN_DEBUG"):
            raise
        say(f"error: this needs {e.name}, which is not installed: pip install 'docgen[{extra}]'", err=True)
        return 1
    except Exception as e:   # a bug in docgen, not the user's fault: say so, briefly
        if os.environ.get("DOCGEN_DEBUG"):
            raise
        say(f"internal error: {type(e).__name__}: {e} (set DOCGEN_DEBUG=1 for a traceback; please report it)",
            err=True)
        return 1


# the import names of optional libraries -> the extra of pyproject.toml that installs them
_EXTRAS = {"apscheduler": "schedule", "tzlocal": "schedule", "sqlalchemy": "sql", "ray": "ray",
           "pdfplumber": "check", "pdfminer": "check", "torch": "qwen", "diffusers": "qwen",
           "transformers": "qwen", "accelerate": "qwen", "rapidocr": "qwen", "onnxruntime": "qwen",
           "dfloat11": "dfloat11"}


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the interpreter's final flush says nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
