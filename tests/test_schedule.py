"""Schedules: cron jobs fire (a fake clock for months, a second-level cron for real time), record their
history, never run twice at once, follow the misfire policy after downtime, and keep N outputs."""
import datetime as dt
import fcntl
import io
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pypdf
import pytest

from conftest import EXAMPLES, ROOT
from pdfutil import nows, pypdf_text

pytest.importorskip("apscheduler", reason="schedules need APScheduler (pip install 'docgen[schedule]')")
pytest.importorskip("sqlalchemy", reason="schedules need SQLAlchemy (pip install 'docgen[schedule]')")

from docgen.batch.schedule import Scheduler, fire, history, load_jobs  # noqa: E402
from docgen.errors import SpecError  # noqa: E402

SALES = EXAMPLES / "sales-report"


def jobs_folder(tmp: Path, jobs: str) -> Path:
    for f in ("sales-report.yaml", "sales.sqlite", "managers.csv"):
        shutil.copy(SALES / f, tmp / f)
    (tmp / "jobs.yaml").write_text(jobs, encoding="utf-8")
    return tmp / "jobs.yaml"


MONTHLY = """\
store: state/schedule.sqlite
timezone: UTC
jobs:
  monthly:
    spec: sales-report.yaml
    cron: "0 6 1 * *"
    params: {month: "{prev_month}"}
    output: "reports/{prev_month:%Y-%m}.pdf"
    misfire: MISFIRE
    keep: 2
"""


class FakeClock:
    """APScheduler's "now", set by the test: the scheduler reads the time only through
    ``datetime.now`` in its scheduler and executor modules, so those two names are replaced."""

    def __init__(self, monkeypatch, start: str):
        import apscheduler.executors.base as executors
        import apscheduler.schedulers.base as schedulers
        self.move_to(start)
        clock = self

        class Now(dt.datetime):
            @classmethod
            def now(cls, tz=None):
                return clock.now.astimezone(tz) if tz else clock.now.replace(tzinfo=None)

        monkeypatch.setattr(schedulers, "datetime", Now)
        monkeypatch.setattr(executors, "datetime", Now)

    def move_to(self, when: str):
        self.now = dt.datetime.fromisoformat(when).replace(tzinfo=dt.timezone.utc)


def wait_for(cond, what, tries=600):
    for _ in range(tries):          # a counter, not the clock: the clock may be frozen
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def ok_runs(jobs):
    return [r for r in history(jobs) if r["status"] == "ok"]


def test_a_monthly_schedule_renders_each_month_on_a_fake_clock(tmp_path, monkeypatch):
    jobs = jobs_folder(tmp_path, MONTHLY.replace("MISFIRE", "coalesce"))
    clock = FakeClock(monkeypatch, "2026-11-30 12:00:00")
    s = Scheduler(jobs).start()
    try:
        assert s.next_runs()["monthly"] == dt.datetime(2026, 12, 1, 6, tzinfo=dt.timezone.utc)
        for n, when in enumerate(["2026-12-01 06:00:00", "2027-01-01 06:00:00", "2027-02-01 06:00:00"], 1):
            clock.move_to(when)
            s.wakeup()
            wait_for(lambda: len(ok_runs(jobs)) == n, f"run {n}")
    finally:
        s.shutdown()
    runs = list(reversed(history(jobs)))
    assert [r["status"] for r in runs] == ["ok", "ok", "ok"]
    assert [r["scheduled"][:10] for r in runs] == ["2026-12-01", "2027-01-01", "2027-02-01"]
    reports = tmp_path / "reports"
    assert [Path(r["outputs"][0]).name for r in runs] == ["2026-11.pdf", "2026-12.pdf", "2027-01.pdf"]
    # keep: 2 — the oldest report was removed; the newest two are whole and say which month they cover
    assert sorted(p.name for p in reports.glob("*.pdf")) == ["2026-12.pdf", "2027-01.pdf"]
    text = nows("".join(pypdf_text((reports / "2026-12.pdf").read_bytes())))
    assert "2026年12月销售月报" in text and "SalesreportDecember2026".lower() in text.replace(",", "").lower()


@pytest.mark.parametrize("policy", ["coalesce", "skip"])
def test_missed_runs_after_downtime_follow_the_policy(tmp_path, monkeypatch, policy):
    jobs = jobs_folder(tmp_path, MONTHLY.replace("MISFIRE", policy))
    clock = FakeClock(monkeypatch, "2026-11-30 12:00:00")
    s = Scheduler(jobs).start()          # stores the job with its next run time (Dec 1)
    s.shutdown()
    clock.move_to("2027-02-15 09:00:00")  # down through three due runs
    s = Scheduler(jobs).start()
    try:
        wait_for(lambda: history(jobs), "the missed runs to be handled")
        time.sleep(0.3)
    finally:
        s.shutdown()
    runs = history(jobs)
    if policy == "coalesce":          # one run for all that were missed, as of the latest due time
        assert [(r["status"], r["scheduled"][:10]) for r in runs] == [("ok", "2027-02-01")]
        assert Path(runs[0]["outputs"][0]).name == "2027-01.pdf"
    else:                             # recorded as missed, nothing rendered
        assert [(r["status"], r["scheduled"][:10]) for r in runs] == [("missed", "2027-02-01")]
        assert not (tmp_path / "reports").exists()


def test_a_second_level_cron_fires_records_history_and_never_overlaps(tmp_path):
    jobs = jobs_folder(tmp_path, """\
store: state/s.sqlite
timezone: UTC
jobs:
  often:
    spec: sales-report.yaml
    cron: "* * * * * *"
    params: {month: "2026-10"}
    output: "reports/{date:%H%M%S}.pdf"
""")
    # two schedulers on one store (as two processes would be): the job's lock lets one run at a time
    a, b = Scheduler(jobs).start(), Scheduler(jobs).start()
    try:
        wait_for(lambda: len(ok_runs(jobs)) >= 3, "three runs", tries=1000)
    finally:
        a.shutdown()
        b.shutdown()
    runs = sorted(history(jobs), key=lambda r: r["started"])
    done = [r for r in runs if r["status"] == "ok"]
    assert all(r["finished"] and r["error"] is None for r in done)
    for r in done:
        pdf = Path(r["outputs"][0]).read_bytes()
        assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) >= 3
    spans = [(r["started"], r["finished"]) for r in done]
    assert all(prev[1] <= nxt[0] for prev, nxt in zip(spans, spans[1:])), spans     # no overlap
    assert {r["status"] for r in runs} <= {"ok", "skipped"}


def test_a_job_whose_lock_is_held_is_skipped_not_run_twice(tmp_path):
    jobs = jobs_folder(tmp_path, MONTHLY.replace("MISFIRE", "coalesce"))
    load_jobs(jobs)
    (tmp_path / "state").mkdir()
    with open(tmp_path / "state" / ".schedule.sqlite.monthly.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert fire(str(jobs), "monthly") == "skipped"
    assert fire(str(jobs), "monthly", dt.datetime(2026, 12, 1, 6, tzinfo=dt.timezone.utc)) == "ok"
    runs = history(jobs)
    assert [r["status"] for r in runs] == ["ok", "skipped"]
    assert "still in progress" in runs[1]["error"]
    assert (tmp_path / "reports" / "2026-11.pdf").is_file()


def test_a_failing_job_is_recorded_with_its_error(tmp_path):
    jobs = jobs_folder(tmp_path, MONTHLY.replace("MISFIRE", "coalesce").replace('"{prev_month}"', '"soon"'))
    assert fire(str(jobs), "monthly") == "failed"
    [run] = history(jobs)
    assert run["status"] == "failed" and run["error"].find("params.month: 'soon' is not a month") >= 0


def test_jobs_file_errors_name_the_field(tmp_path):
    jobs = jobs_folder(tmp_path, MONTHLY.replace("MISFIRE", "sometimes").replace("0 6 1 * *", "61 * * * *"))
    with pytest.raises(SpecError) as e:
        load_jobs(jobs)
    assert "jobs.monthly.misfire: expected one of coalesce, skip" in str(e.value)
    assert "jobs.yaml:9 jobs.monthly.misfire" in str(e.value)         # with the file and line
    jobs.write_text(MONTHLY.replace("MISFIRE", "skip").replace("0 6 1 * *", "61 * * * *"))
    with pytest.raises(SpecError, match=r"jobs\.monthly\.cron: '61 \* \* \* \*'"):
        load_jobs(jobs)


def test_cli_schedule_fire_and_history(tmp_path):
    jobs = jobs_folder(tmp_path, MONTHLY.replace("MISFIRE", "coalesce"))
    cli = [sys.executable, "-m", "docgen", "schedule"]
    run = subprocess.run(cli + ["fire", str(jobs), "--job", "monthly"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("monthly: ok ") and ".pdf" in run.stdout
    hist = subprocess.run(cli + ["history", str(jobs), "--json"], capture_output=True, text=True, cwd=ROOT)
    assert hist.returncode == 0, hist.stderr
    assert '"status": "ok"' in hist.stdout
    bad = subprocess.run(cli + ["history", str(tmp_path / "nope.yaml")], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_the_example_jobs_file_is_valid():
    jobs, folder = load_jobs(SALES / "jobs.yaml")
    job = jobs.jobs["monthly-sales"]
    assert (folder / job.spec).is_file() and job.misfire == "coalesce" and job.keep == 24
