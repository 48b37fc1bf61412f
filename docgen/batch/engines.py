"""Engines: render tasks (one per document) in, outcomes (PDF bytes or an error) out, as they finish.

Three engines share one worker function, :func:`render_task`:

* ``serial`` — in this process (one worker);
* ``local`` — a process pool sized to the cores (``concurrent.futures``);
* ``ray`` — Ray tasks on a cluster, or on a local Ray instance started with ``ray.init()``.

The image pipeline is loaded once per run, not per document: a backend that holds a GPU (its
``capabilities.shared_process``, e.g. Qwen-Image) lives in one *region service* — a ``multiprocessing``
manager process for the local pool, Ray actors with ``num_gpus=1`` (one per GPU in the cluster) for
Ray — and the typesetting workers send it their region requests; any other backend (the draft
placeholders) is copied to every worker, which draws its own.  Only the driver
writes files, so a worker never leaves half a PDF behind.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import DocgenError, SpecError


@dataclass
class Task:
    index: int                         # position in the batch (0-based)
    params: dict[str, Any]             # values for the spec's declared parameters
    edition: str | None = None


@dataclass
class Outcome:
    index: int
    pdf: bytes | None = None
    pages: int = 0
    error: str | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def describe(e: BaseException) -> str:
    if isinstance(e, SpecError):
        return "; ".join(str(p) for p in e.problems)
    if isinstance(e, DocgenError):
        return str(e)
    return f"internal error: {type(e).__name__}: {e}"


# ---- the region service: one loaded pipeline, many typesetting workers ---------------------------------
class RegionService:
    """Holds one region backend and generates for every worker, one request list at a time."""

    # built from the backend's registered name in the service's own process: it loads its pipeline there
    def __init__(self, backend_name: str, model_config=None):
        self.backend_name = backend_name
        self.model_config = model_config
        self._backend = None
        self._lock = threading.Lock()

    def _get(self):
        if self._backend is None:
            from ..regions import get_backend
            self._backend, _ = get_backend(self.backend_name, self.model_config)
        return self._backend

    def identity(self) -> dict:
        with self._lock:
            return self._get().identity()

    def generate(self, requests):
        with self._lock:
            return self._get().generate(list(requests))


class _ServiceBackend:
    """A worker's view of the region service (a manager proxy or a Ray actor handle)."""

    name = "service"

    def __init__(self, call: Callable[[list], list], identity: dict, capabilities):
        self._call = call
        self._identity = identity
        self.capabilities = capabilities        # the served backend's: the worker caches and verifies

    def identity(self) -> dict:
        return self._identity

    def generate(self, requests):
        return self._call(list(requests))


# ---- the worker ---------------------------------------------------------------------------------------
_STATE: dict[str, Any] = {}


def _init_worker(doc, root: str, backend, model_config=None, watch_parent: int | None = None):
    _STATE.update(doc=doc, root=Path(root), backend=backend, model_config=model_config)
    if watch_parent:
        # a pool worker whose driver was killed (SIGKILL) must not linger: leave when orphaned
        def watch():
            while True:
                time.sleep(1.0)
                if os.getppid() != watch_parent:
                    os._exit(1)
        threading.Thread(target=watch, daemon=True).start()


def render_task(task: Task, doc=None, root=None, backend=None, model_config=None) -> Outcome:
    from ..render import render_document
    doc = doc if doc is not None else _STATE["doc"]
    root = Path(root) if root is not None else _STATE["root"]
    backend = backend if backend is not None else _STATE["backend"]
    model_config = model_config if model_config is not None else _STATE.get("model_config")
    t0 = time.perf_counter()
    try:
        res = render_document(doc, root, edition=task.edition, backend=backend, params=task.params,
                              model_config=model_config)
        return Outcome(task.index, res.pdf, res.pages, None, time.perf_counter() - t0, list(res.warnings))
    except Exception as e:                  # one failing document never stops the batch
        return Outcome(task.index, None, 0, describe(e), time.perf_counter() - t0)


# ---- engines ------------------------------------------------------------------------------------------
def run_serial(doc, root: Path, tasks: list[Task], backend, model_config=None) -> Iterable[Outcome]:
    for t in tasks:
        yield render_task(t, doc, root, backend, model_config)


def run_local(doc, root: Path, tasks: list[Task], backend, workers: int, model_config=None,
              force_service: bool = False) -> Iterable[Outcome]:
    import concurrent.futures as cf
    import multiprocessing as mp
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    manager = None
    if not (backend.capabilities.shared_process or force_service):
        worker_backend = backend
    else:
        from multiprocessing.managers import BaseManager

        class _Manager(BaseManager):
            pass
        _Manager.register("RegionService", RegionService)
        manager = _Manager(ctx=ctx)
        manager.start()
        service = manager.RegionService(backend.name, model_config)
        # the identity keys the shared region cache: the real backend's, not the proxy's
        worker_backend = _ServiceBackend(service.generate, service.identity(), backend.capabilities)
    try:
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                    initargs=(doc, str(root), worker_backend, model_config, os.getpid())) as pool:
            futures = [pool.submit(render_task, t) for t in tasks]
            index = {f: t.index for f, t in zip(futures, tasks)}
            for f in cf.as_completed(futures):
                try:
                    yield f.result()
                except Exception as e:       # a worker died (killed, out of memory): record, go on
                    yield Outcome(index[f], error=f"worker failed: {describe(e)}")
    finally:
        if manager is not None:
            manager.shutdown()


def ray_available() -> str | None:
    """None when Ray can be used, else why not."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return "Ray is not installed (pip install 'docgen[ray]')"
    return None


def run_ray(doc, root: Path, tasks: list[Task], backend, workers: int | None,
            address: str | None = None, model_config=None) -> Iterable[Outcome]:
    why = ray_available()
    if why:
        raise DocgenError(why)
    import ray
    started = False
    if not ray.is_initialized():
        pkg_parent = str(Path(__file__).resolve().parents[2])
        env = {"PYTHONPATH": os.pathsep.join(p for p in (pkg_parent, os.environ.get("PYTHONPATH")) if p)}
        for k in ("DOCGEN_CACHE_DIR", "DOCGEN_BACKEND", "SOURCE_DATE_EPOCH", "HF_HUB_OFFLINE"):
            if k in os.environ:
                env[k] = os.environ[k]
        kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "runtime_env": {"env_vars": env}}
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(num_cpus=workers or os.cpu_count() or 1, **kw)
        started = True
    try:
        caps = backend.capabilities
        actors: list[Any] = [None]          # None: each task draws with its own copy of the backend
        identity: dict = {}
        if caps.shared_process:
            gpus = int(ray.cluster_resources().get("GPU", 0))
            actor_cls = ray.remote(RegionService).options(num_gpus=1 if gpus else 0, num_cpus=0)
            actors = [actor_cls.remote(backend.name, model_config) for _ in range(max(1, gpus))]
            identity = ray.get(actors[0].identity.remote())
        n_actors = len(actors)
        doc_ref = ray.put(doc)

        @ray.remote(num_cpus=1)
        def typeset(task, doc, root, actor):
            if actor is None:
                worker_backend = backend
            else:
                worker_backend = _ServiceBackend(lambda reqs: ray.get(actor.generate.remote(reqs)), identity, caps)
            return render_task(task, doc, root, worker_backend, model_config)

        pending = {typeset.remote(t, doc_ref, str(root), actors[i % n_actors]): t.index
                   for i, t in enumerate(tasks)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                idx = pending.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as e:
                    yield Outcome(idx, error=f"ray task failed: {describe(e)}")
    finally:
        if started:
            ray.shutdown()
