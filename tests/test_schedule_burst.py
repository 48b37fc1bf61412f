"""`docgen schedule run` with six jobs due in the same second: all six run at once in a fresh process (its
fonts, caches and template environments loaded lazily by six threads together) and all succeed, round
after round.  Each round has its own folder, store and outputs (tests may run side by side)."""
import datetime as dt
import io
import json
import subprocess
import sys
import time

import pypdf
import pytest

from conftest import ROOT
from pdfutil import nows, pypdf_text

pytest.importorskip("apscheduler", reason="schedules need APScheduler (pip install 'docgen[schedule]')")
pytest.importorskip("sqlalchemy", reason="schedules need SQLAlchemy (pip install 'docgen[schedule]')")

from docgen.batch.schedule import Scheduler, history  # noqa: E402

LAYOUTS = ("report", "brochure", "poster")       # different fonts and templates, loaded at the same moment
ROUNDS = 3


def six_jobs(folder, when: dt.datetime):
    jobs = {}
    for i in range(6):
        layout = LAYOUTS[i % 3]
        spec = {"layout": layout, "languages": ["zh", "en"], "bilingual": "parallel" if i < 3 else "stacked",
                "meta": {"title": {"zh": f"第{i}号通知", "en": f"Notice {i}"}},
                "body": [{"heading": {"zh": "概况", "en": "Overview"}},
                         {"paragraph": {"zh": f"任务{i}按时完成，质量良好。", "en": f"Job {i} finished on time."}}]}
        (folder / f"s{i}.yaml").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        # six fields, seconds first: this one second only
        jobs[f"job{i}"] = {"spec": f"s{i}.yaml", "cron": f"{when.second} {when.minute} {when.hour} * * *",
                           "output": f"out/{i}-{{date:%H%M%S}}.pdf"}
    path = folder / "jobs.yaml"
    path.write_text(json.dumps({"store": "state/s.sqlite", "timezone": "UTC", "jobs": jobs}), encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_six_jobs_due_in_the_same_second_all_succeed(tmp_path, round_):
    when = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)).replace(microsecond=0)
    jobs = six_jobs(tmp_path, when)
    s = Scheduler(jobs).start()        # the store now holds six jobs, each next due at `when`
    s.shutdown()
    time.sleep(max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 0.5)
    # a fresh process starts with six due runs (coalesced misfires): all start together on its thread pool
    run = subprocess.run([sys.executable, "-m", "docgen", "schedule", "run", str(jobs), "--for", "2"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    runs = history(jobs)
    assert sorted(r["job"] for r in runs) == [f"job{i}" for i in range(6)], runs
    assert all(r["status"] == "ok" and r["error"] is None for r in runs), [(r["job"], r["error"]) for r in runs]
    assert {r["scheduled"] for r in runs} == {when.isoformat()}          # all due in the same second
    first_end = min(r["finished"] for r in runs)
    assert sum(r["started"] < first_end for r in runs) >= 2               # and they did run side by side
    for r in runs:
        i = int(r["job"][3:])
        [out] = r["outputs"]
        pdf = pypdf.PdfReader(io.BytesIO(open(out, "rb").read()))
        text = nows("".join(pypdf_text(open(out, "rb").read())))
        assert len(pdf.pages) >= 1 and f"第{i}号通知" in text and f"Job{i}finishedontime" in text
