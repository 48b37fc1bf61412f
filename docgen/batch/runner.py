"""A batch run: one spec and many rows (parameter sets) in, one PDF per row, a summary and a manifest out.

For each row the runner names the output (a safe pattern, see :mod:`docgen.batch.naming`), computes the
row's input key — sha256 of the spec, the row, the data files' contents, the layout folder and the
docgen version — and skips the row when the manifest says the same key already produced the PDF that
is still there.  The rest go to an engine (in-process, a local process pool, or Ray); each finished PDF
is written atomically as it arrives, a failing row is recorded and the others go on, and the manifest is
rewritten as the run proceeds, so a run killed midway loses at most the documents in flight.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .._io import atomic_write, file_lock
from ..errors import DocgenError, Problem, SpecError
from . import manifest as M
from .engines import Outcome, Task, describe, run_local, run_ray, run_serial
from ..data.sources import parse_records
from .naming import OutputPattern

ENGINES = ("local", "ray")


@dataclass
class DocResult:
    index: int
    output: str
    status: str                       # ok | failed | skipped
    key: str
    error: str | None = None
    seconds: float = 0.0
    pages: int = 0
    sha256: str | None = None


@dataclass
class BatchReport:
    ok: int
    failed: int
    skipped: int
    seconds: float
    documents: list[DocResult] = field(default_factory=list)
    manifest: Path | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.ok + self.failed + self.skipped

    def summary(self) -> str:
        rate = f", {self.ok / self.seconds:.2f} docs/s" if self.ok and self.seconds > 0 else ""
        return (f"{self.total} documents: {self.ok} ok, {self.failed} failed, {self.skipped} skipped "
                f"in {self.seconds:.1f} s{rate}")


def read_rows(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows from a CSV (header row), JSON or YAML file (a list of mappings)."""
    p = Path(path)
    where = f"rows ({p})"
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError(Problem("", "file not found", str(p))) from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(Problem("", f"cannot read: {e}", str(p))) from None
    columns, data = parse_records(text, p.suffix.lower(), str(p), "rows")
    if columns is not None:
        return data
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise SpecError(Problem(where, "expected a list of rows (mappings)", str(p)))
    return data


def _lock_folder(folder: Path):
    """The folder's batch lock, held until ``release()``.  A killed batch's pool workers may hold it a
    moment longer than the batch itself: wait a few seconds before calling the folder busy."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = file_lock(folder / ".docgen-batch.lock")
    try:
        lock.acquire(timeout=LOCK_WAIT)
    except TimeoutError:
        raise DocgenError(f"another docgen batch is writing into {folder}; wait for it to finish") from None
    return lock


LOCK_WAIT = 5.0          # seconds


def _cleanup_temp(folders: Iterable[Path]) -> int:
    """Remove temporary files a killed run left (atomic_write's ``.name.XXXX.tmp``) for PDFs/manifest."""
    n = 0
    for d in set(folders):
        if not d.is_dir():
            continue
        for p in d.glob(".*.tmp"):
            if ".pdf." in p.name or p.name.startswith(f".{M.NAME}."):
                try:
                    p.unlink()
                    n += 1
                except OSError:
                    pass
    return n


def _font_files(fonts) -> list[str]:
    out = []
    if isinstance(fonts, dict):
        for k, v in fonts.items():
            if k in ("regular", "bold", "italic", "bold_italic") and isinstance(v, str):
                out.append(v)
            else:
                out += _font_files(v)
    elif isinstance(fonts, list):
        for v in fonts:
            out += _font_files(v)
    return out


def _static_key(spec, doc, root: Path, backend_identity: dict) -> dict:
    """The parts of every row's key that do not depend on the row."""
    import docgen
    from ..data import data_files, has_remote_source
    from ..layout import find, shared_dir
    if isinstance(spec, (str, os.PathLike)):
        spec_hash = M.sha256_bytes(Path(spec).read_bytes())
    else:
        spec_hash = M.sha256_bytes(M.canonical(doc.model_dump(mode="json")).encode())
    files = {str(p.relative_to(root.resolve()) if p.is_relative_to(root.resolve()) else p): M.sha256_file(p)
             for p in data_files(doc, root)}
    # images, and font files a spec's theme names, count as inputs too
    from ..render import asset_refs
    named = [rel for rel, _ in asset_refs(doc)]
    named += [v for v in _font_files(doc.theme.model_dump(exclude_unset=True).get("fonts"))]
    for rel in named:
        p = (root / rel).resolve()
        if p.is_file() and p.is_relative_to(root.resolve()):
            files[str(p.relative_to(root.resolve()))] = M.sha256_file(p)
    folder = find(doc.layout, root)
    key = {"spec": spec_hash, "data": files, "docgen": docgen.__version__,
           "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH"),
           "layout": M.folder_hash(folder, shared_dir()), "backend": backend_identity}
    if has_remote_source(doc, root):
        key["volatile"] = os.urandom(8).hex()     # a remote database may change at any time: never skip
    return key


def run_batch(spec, rows: list[dict[str, Any]] | str | os.PathLike, out: str, *, engine: str = "local",
              workers: int | None = None, backend: str | None = None, edition: str | None = None,
              force: bool = False, progress: bool | None = None, ray_address: str | None = None,
              model_config: Any = None, warn: Callable[[str], None] | None = None) -> BatchReport:
    """Render ``spec`` once per row; see the module docstring.  ``rows``: a list of mappings or a file.
    ``warn``: called with each warning as soon as it is known (before the documents render); every
    warning is also in the report."""
    from ..regions import get_backend
    from ..render import load
    t0 = time.perf_counter()
    if engine not in ENGINES:
        raise SpecError(Problem("engine", f"expected one of {', '.join(ENGINES)}"))
    doc, root = load(spec)
    if not isinstance(rows, list):
        rows = read_rows(rows)
    warnings: list[str] = []

    def note(w: str) -> None:
        warnings.append(w)
        if warn is not None:
            warn(w)

    backend_obj, why = get_backend(backend, model_config)
    if why:
        note(f"generated regions use the draft backend (placeholders): {why}")
    try:
        identity = backend_obj.identity()
    except Exception:                      # identity of a backend that cannot load yet: its name
        identity = {"backend": backend_obj.name}
    static = _static_key(spec, doc, root, identity)

    # plan: output names (checked for escapes and clashes) and keys
    pattern = OutputPattern(out)
    plans: list[tuple[int, Path, str, dict]] = []
    seen: dict[Path, int] = {}
    undeclared: set[str] = set()
    for i, row in enumerate(rows):
        values = {"index": i + 1, **row}
        path = pattern.path(values, where=f"out (row {i + 1})")
        if path in seen:
            raise SpecError(Problem("out", f"rows {seen[path] + 1} and {i + 1} both write "
                                           f"{path.relative_to(pattern.root)}: make the pattern unique"))
        seen[path] = i
        params = {k: v for k, v in row.items() if k in doc.params}
        undeclared |= {k for k in row if k not in doc.params}
        key = M.sha256_bytes(M.canonical({**static, "row": params, "edition": edition}).encode())
        plans.append((i, path, key, params))
    if undeclared:
        note(f"row columns that are not parameters of the spec (used for names only): "
             f"{', '.join(sorted(undeclared))}")
    man_path = pattern.root / M.NAME
    # one batch at a time per output folder: the lock makes removing a killed run's temp files safe and
    # keeps two runs from overwriting each other's manifest (released when the run ends, or with the
    # process if it dies)
    lock = _lock_folder(pattern.root)
    _cleanup_temp([pattern.root] + [p.parent for _, p, _, _ in plans])
    journal_path = pattern.root / M.JOURNAL
    before = {} if force else {**M.read(man_path).get("documents", {}), **M.read_journal(journal_path)}

    results: dict[int, DocResult] = {}
    tasks: list[Task] = []
    for i, path, key, params in plans:
        rel = str(path.relative_to(pattern.root))
        prev = before.get(rel)
        if prev and prev.get("status") in ("ok", "skipped") and prev.get("key") == key and \
                prev.get("sha256") and M.sha256_file(path) == prev["sha256"]:
            results[i] = DocResult(i, rel, "skipped", key, sha256=prev["sha256"], pages=prev.get("pages", 0))
        else:
            tasks.append(Task(i, params, edition))

    n_workers = workers or os.cpu_count() or 1
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")

    def entry(r: DocResult) -> dict:
        return {"index": r.index, "status": r.status, "key": r.key, "sha256": r.sha256, "pages": r.pages,
                "error": r.error, "seconds": round(r.seconds, 3)}

    def save_manifest(final: bool):
        docs = dict(before)
        for r in results.values():
            docs[r.output] = entry(r)
        docs = dict(sorted(docs.items(), key=lambda kv: (kv[1].get("index", 0), kv[0])))
        counts = {s: sum(1 for r in results.values() if r.status == s) for s in ("ok", "failed", "skipped")}
        M.write(man_path, {
            "spec": str(spec) if isinstance(spec, (str, os.PathLike)) else "<Document>",
            "out": out, "engine": engine, "workers": n_workers if tasks else 0, "started": started,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z") if final else None,
            "seconds": round(time.perf_counter() - t0, 3), "complete": final, **counts, "documents": docs})

    bar = None
    if tasks:
        if progress is None:
            progress = sys.stderr.isatty()
        from tqdm import tqdm
        if engine == "ray":
            stream = run_ray(doc, root, tasks, backend_obj, workers, ray_address, model_config)
        elif n_workers <= 1:
            stream = run_serial(doc, root, tasks, backend_obj, model_config)
        else:
            stream = run_local(doc, root, tasks, backend_obj, min(n_workers, len(tasks)), model_config)
        plan_of = {i: (path, key) for i, path, key, _ in plans}
        last_save = time.monotonic()
        journal = M.Journal(journal_path)
        bar = tqdm(total=len(tasks), unit="doc", disable=not progress, file=sys.stderr)
        try:
            for o in stream:
                path, key = plan_of[o.index]
                rel = str(path.relative_to(pattern.root))
                results[o.index] = r = _record(o, path, rel, key)
                journal.add(rel, entry(r))
                bar.update(1)
                if time.monotonic() - last_save > 5.0:
                    save_manifest(False)
                    last_save = time.monotonic()
        finally:
            bar.close()
            journal.close()
    save_manifest(True)
    journal_path.unlink(missing_ok=True)        # folded into the manifest
    lock.release()
    docs = [results[i] for i in sorted(results)]
    return BatchReport(ok=sum(r.status == "ok" for r in docs), failed=sum(r.status == "failed" for r in docs),
                       skipped=sum(r.status == "skipped" for r in docs), seconds=time.perf_counter() - t0,
                       documents=docs, manifest=man_path, warnings=warnings)


def _record(o: Outcome, path: Path, rel: str, key: str) -> DocResult:
    if o.error is not None or o.pdf is None:
        return DocResult(o.index, rel, "failed", key, error=o.error or "no PDF", seconds=o.seconds)
    try:
        atomic_write(path, o.pdf)
    except OSError as e:
        return DocResult(o.index, rel, "failed", key, error=f"cannot write {rel}: {e.strerror}", seconds=o.seconds)
    except DocgenError as e:                 # e.g. the name is a folder or a FIFO (OutputError)
        return DocResult(o.index, rel, "failed", key, error=str(e), seconds=o.seconds)
    return DocResult(o.index, rel, "ok", key, seconds=o.seconds, pages=o.pages, sha256=M.sha256_bytes(o.pdf))


__all__ = ["BatchReport", "DocResult", "describe", "read_rows", "run_batch"]
