"""Schedules: a jobs file in, PDFs rendered on cron expressions, with a queryable run history.

``jobs.yaml`` names a store (an SQLite file: APScheduler's persistent job store and docgen's run
history) and jobs; each job is a spec, parameters, an output pattern, a cron expression, a misfire
policy and a retention.  APScheduler 3.x does the scheduling (``pip install 'docgen[schedule]'``); this
module only wires it:

* cron: five crontab fields (``0 6 1 * *``), or six with seconds first (``*/10 * * * * *``), handed to
  APScheduler's ``CronTrigger`` field by field;
* missed runs after downtime: the store remembers each job's next run time, so a restarted scheduler
  sees the runs it missed — ``misfire: coalesce`` runs once for all of them, ``skip`` drops them
  (recorded as ``missed``) and waits for the next;
* never twice at once: ``max_instances=1`` within a scheduler, and a per-job file lock across
  processes (two schedulers on one store, or a crontab ``docgen schedule fire`` during a scheduled run);
* placeholders in ``params`` and ``output``: ``{date}`` (the scheduled time), ``{month}`` and
  ``{prev_month}`` (its month and the one before), with the restricted formatter
  (``reports/{prev_month:%Y-%m}.pdf``).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import socket
import sqlite3
import stat
import threading
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._io import file_lock
from ..data.values import Month
from ..errors import DocgenError, Problem, SpecError

_log = logging.getLogger("docgen.schedule")


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: str = Field(description="the spec, relative to the jobs file")
    cron: str = Field(description="crontab fields: 'min hour day month weekday', or six with seconds first")
    params: dict[str, Any] = Field(default_factory=dict, description="values; text may use {date}, "
                                                                      "{month}, {prev_month}")
    output: str = Field(description="output pattern, e.g. reports/{prev_month:%Y-%m}.pdf")
    misfire: Literal["coalesce", "skip"] = "coalesce"
    grace: int = Field(60, ge=1, description="skip: seconds a run may start late before it counts as missed")
    keep: int | None = Field(None, ge=1, description="retention: keep this many newest outputs of the job")
    edition: str | None = None
    backend: str | None = None


class JobsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    store: str = Field("schedule.sqlite", description="SQLite file for the job store and the run history")
    timezone: str | None = Field(None, description="IANA name, e.g. Asia/Shanghai (default: this machine's)")
    jobs: dict[str, Job] = Field(min_length=1)


# ---- loading -------------------------------------------------------------------------------------------
def load_jobs(path: str | os.PathLike, *, check_cron: bool = True) -> tuple[JobsFile, Path]:
    """The jobs file, validated; ``check_cron``: also parse each cron (needs APScheduler)."""
    from ..spec.load import parse_yaml, problems_from
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SpecError(Problem("", f"cannot read: {e.strerror}", str(path))) from None
    data, pos = parse_yaml(text, str(path))
    try:
        jobs = JobsFile.model_validate(data if data is not None else {})
    except ValidationError as e:
        raise SpecError(problems_from(e, pos, str(path))) from None
    for name, job in jobs.jobs.items():
        if check_cron:
            trigger(job.cron, jobs.timezone, f"jobs.{name}.cron")     # check early, with the path
    return jobs, path.resolve().parent


def _tz(name: str | None):
    if name is None:
        from tzlocal import get_localzone
        return get_localzone()
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SpecError(Problem("timezone", f"unknown time zone {name!r}")) from None


def trigger(cron: str, timezone: str | None, where: str = "cron"):
    """An APScheduler CronTrigger from crontab fields (5) or seconds + crontab fields (6)."""
    from apscheduler.triggers.cron import CronTrigger
    fields = cron.split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(cron, timezone=_tz(timezone))
        if len(fields) == 6:
            s, mi, h, d, mo, dow = fields
            return CronTrigger(second=s, minute=mi, hour=h, day=d, month=mo, day_of_week=dow,
                               timezone=_tz(timezone))
    except ValueError as e:
        raise SpecError(Problem(where, f"{cron!r}: {e}")) from None
    raise SpecError(Problem(where, f"{cron!r}: expected 5 crontab fields (or 6, seconds first)"))


def placeholder_values(when: _dt.datetime) -> dict[str, Any]:
    m = Month(when.year, when.month)
    return {"date": when, "month": m, "prev_month": m.previous()}


# ---- run history ---------------------------------------------------------------------------------------
class History:
    """Runs of every job (start, end, status, outputs, error) in the store's SQLite file."""

    def __init__(self, store: Path):
        self.path = store
        store.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("""CREATE TABLE IF NOT EXISTS docgen_runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, scheduled TEXT, started TEXT,
                finished TEXT, status TEXT NOT NULL, outputs TEXT NOT NULL DEFAULT '[]', error TEXT,
                host TEXT, pid INTEGER)""")

    @contextlib.contextmanager
    def _db(self):
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def start(self, job: str, scheduled: _dt.datetime | None, status: str = "running",
              error: str | None = None) -> int:
        now = _now_iso()
        with self._db() as db:
            cur = db.execute("INSERT INTO docgen_runs (job, scheduled, started, finished, status, error, host, pid)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (job, scheduled.isoformat() if scheduled else None, now,
                              None if status == "running" else now, status, error, socket.gethostname(),
                              os.getpid()))
            return int(cur.lastrowid)

    def finish(self, run_id: int, status: str, outputs: list[str], error: str | None = None) -> None:
        with self._db() as db:
            db.execute("UPDATE docgen_runs SET finished = ?, status = ?, outputs = ?, error = ? WHERE id = ?",
                       (_now_iso(), status, json.dumps(outputs, ensure_ascii=False), error, run_id))

    def runs(self, job: str | None = None, limit: int | None = None) -> list[dict]:
        q = "SELECT id, job, scheduled, started, finished, status, outputs, error FROM docgen_runs"
        args: list = []
        if job:
            q += " WHERE job = ?"
            args.append(job)
        q += " ORDER BY id DESC"
        if limit:
            q += " LIMIT ?"
            args.append(int(limit))
        with self._db() as db:
            rows = db.execute(q, args).fetchall()
        keys = ("id", "job", "scheduled", "started", "finished", "status", "outputs", "error")
        out = [dict(zip(keys, r)) for r in rows]
        for r in out:
            r["outputs"] = json.loads(r["outputs"] or "[]")
        return out


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _store(jobs: JobsFile, folder: Path) -> Path:
    return (folder / jobs.store).resolve()


# ---- one run of a job ---------------------------------------------------------------------------------
def fire(jobs_path: str, name: str, scheduled: _dt.datetime | None = None) -> str:
    """Run job ``name`` of the jobs file once (what the scheduler calls; also ``docgen schedule fire``).
    Returns the run's status: ok, failed or skipped (another run of the job holds its lock)."""
    from ..batch.engines import describe
    from ..batch.naming import OutputPattern
    from ..render import render

    jobs, folder = load_jobs(jobs_path)
    if name not in jobs.jobs:
        raise SpecError(Problem("jobs", f"no job {name!r} in {jobs_path} (jobs: {', '.join(jobs.jobs)})"))
    job = jobs.jobs[name]
    store = _store(jobs, folder)
    history = History(store)
    when = scheduled or _dt.datetime.now(_tz(jobs.timezone))
    lock_path = store.with_name(f".{store.name}.{name}.lock")
    lock = file_lock(lock_path)
    try:
        lock.acquire(timeout=0)
    except TimeoutError:
        history.start(name, when, "skipped", "another run of this job is still in progress")
        return "skipped"
    try:
        run_id = history.start(name, when)
        try:
            from ..data.placeholders import fill
            values = placeholder_values(when)
            params = {}
            for k, v in job.params.items():
                try:
                    params[k] = fill(v, values) if isinstance(v, str) else v
                except ValueError as e:
                    raise SpecError(Problem(f"jobs.{name}.params.{k}", str(e))) from None
            out = OutputPattern(job.output, base=folder).path(values, where=f"jobs.{name}.output")
            render(folder / job.spec, out=out, params=params, edition=job.edition, backend=_backend(job))
            outputs = [str(out)]
            history.finish(run_id, "ok", outputs)
            if job.keep:
                _retain(history, name, job.keep, OutputPattern(job.output, base=folder).root)
            return "ok"
        except Exception as e:            # recorded in the history; the scheduler goes on
            history.finish(run_id, "failed", [], describe(e))
            _log.error("job %s failed: %s", name, describe(e))
            return "failed"
    finally:
        lock.release()


def _backend(job: Job):
    if job.backend is None:
        return None
    from ..regions import get_backend
    return get_backend(job.backend)[0]


def _owned(path: str, root: Path) -> Path | None:
    """``path`` if retention may delete it: a regular file (not a link) inside the job's output folder
    ``root`` that is a PDF — whatever the store says, which anyone who can write it can change."""
    p = Path(path)
    if not p.is_absolute():
        return None
    try:
        real = p.parent.resolve() / p.name
        if not real.is_relative_to(root) or real == root:
            return None
        st = os.lstat(real)
        if not stat.S_ISREG(st.st_mode):
            return None
        with open(real, "rb") as f:
            if f.read(5) != b"%PDF-":
                return None
    except OSError:
        return None
    return real


def _retain(history: History, name: str, keep: int, root: Path) -> None:
    """Delete outputs of the job's older successful runs beyond the newest ``keep`` — only files docgen
    wrote: PDFs inside the job's output folder ``root``."""
    kept: list[str] = []
    for r in history.runs(name):
        if r["status"] != "ok":
            continue
        for o in r["outputs"]:
            if o in kept:
                continue
            if len(kept) < keep:
                kept.append(o)
            else:
                target = _owned(o, root)
                if target is None:
                    _log.warning("retention of job %s: not deleting %s (not a PDF in %s)", name, o, root)
                    continue
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()


# ---- the scheduler -------------------------------------------------------------------------------------
def _executor_class():
    from apscheduler.executors.base import run_job
    from apscheduler.executors.pool import ThreadPoolExecutor

    class _AtTime:
        """The job as run_job sees it, with the scheduled time added to its keyword arguments."""

        def __init__(self, job, when):
            self._job, self._when = job, when

        def __getattr__(self, k):
            return getattr(self._job, k)

        @property
        def kwargs(self):
            return {**self._job.kwargs, "scheduled": self._when}

        def __str__(self):
            return str(self._job)

    def run_each(job, alias, run_times, logger_name):
        events = []
        for when in run_times:
            events += run_job(_AtTime(job, when), alias, [when], logger_name)
        return events

    class ScheduledTimeExecutor(ThreadPoolExecutor):
        """APScheduler's thread pool, passing each run its scheduled time (``{date}`` is the time the run
        was due, not when it happened to start — what matters after downtime)."""

        def _do_submit_job(self, job, run_times):
            def callback(f):
                exc = f.exception()
                if exc:
                    self._run_job_error(job.id, exc, exc.__traceback__)
                else:
                    self._run_job_success(job.id, f.result())

            f = self._pool.submit(run_each, job, job._jobstore_alias, run_times, self._logger.name)
            f.add_done_callback(callback)

    return ScheduledTimeExecutor


class Scheduler:
    """The jobs of one jobs file on an APScheduler BackgroundScheduler with a persistent SQLite store."""

    def __init__(self, jobs_path: str | os.PathLike):
        try:
            import apscheduler  # noqa: F401
            import sqlalchemy  # noqa: F401
        except ImportError:
            raise DocgenError("schedules need APScheduler 3 and SQLAlchemy "
                              "(pip install 'docgen[schedule]')") from None
        self.jobs_path = Path(jobs_path).resolve()
        self.jobs, self.folder = load_jobs(self.jobs_path)
        self.store = _store(self.jobs, self.folder)
        self.history = History(self.store)
        self._sched = None

    def start(self) -> "Scheduler":
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        sched = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{self.store}")},
            executors={"default": _executor_class()(max_workers=4)},
            job_defaults={"max_instances": 1}, timezone=_tz(self.jobs.timezone))

        def on_event(ev):
            if ev.code == EVENT_JOB_MISSED:
                self.history.start(ev.job_id, ev.scheduled_run_time, "missed", "missed while the scheduler "
                                                                              "was down (misfire: skip)")
            elif ev.code == EVENT_JOB_MAX_INSTANCES:
                when = ev.scheduled_run_times[-1] if ev.scheduled_run_times else None
                self.history.start(ev.job_id, when, "skipped", "the previous run is still in progress")
        sched.add_listener(on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        sched.start(paused=True)
        self._sched = sched
        self._sync()
        sched.resume()
        return self

    def _sync(self) -> None:
        """Make the store's jobs those of the file, keeping each unchanged job's next run time (so runs
        missed while the scheduler was down are seen)."""
        sched = self._sched
        for name, job in self.jobs.jobs.items():
            trig = trigger(job.cron, self.jobs.timezone, f"jobs.{name}.cron")
            opts = dict(args=[str(self.jobs_path), name], name=name, coalesce=True, max_instances=1,
                        misfire_grace_time=None if job.misfire == "coalesce" else job.grace)
            existing = sched.get_job(name)
            if existing is None:
                sched.add_job(fire, trig, id=name, **opts)
                continue
            if repr(existing.trigger) != repr(trig):
                sched.reschedule_job(name, trigger=trig)
            existing.modify(**opts)
        for j in sched.get_jobs():
            if j.id not in self.jobs.jobs:
                j.remove()

    def next_runs(self) -> dict[str, _dt.datetime | None]:
        return {j.id: j.next_run_time for j in self._sched.get_jobs()}

    def wakeup(self) -> None:
        self._sched.wakeup()

    def shutdown(self, wait: bool = True) -> None:
        if self._sched is not None:
            self._sched.shutdown(wait=wait)
            self._sched = None

    def run(self, duration: float | None = None) -> None:
        """Run until interrupted (SIGINT/SIGTERM), or for ``duration`` seconds."""
        import signal
        stop = threading.Event()
        old = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                old[sig] = signal.signal(sig, lambda *_: stop.set())
        try:
            self.start()
            deadline = None if duration is None else time.monotonic() + duration
            while not stop.is_set():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                stop.wait(1.0 if left is None else min(1.0, left))
        finally:
            self.shutdown(wait=True)
            for sig, h in old.items():
                signal.signal(sig, h)


def history(jobs_path: str | os.PathLike, job: str | None = None, limit: int | None = None) -> list[dict]:
    jobs, folder = load_jobs(jobs_path, check_cron=False)      # reading the history needs no APScheduler
    return History(_store(jobs, folder)).runs(job, limit)
