"""Batch runs: one PDF per row, failures recorded, unchanged rows skipped, kill-safe, local pool vs Ray."""
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pypdf
import pytest

from docgen.batch import read_rows, run_batch
from docgen.errors import SpecError
from pdfutil import nows, pypdf_text

from conftest import EXAMPLES, ROOT

SPEC = """\
layout: report
languages: [zh, en]
meta: {title: {zh: "客户报告 {name}", en: "Customer report {name}"}, date: 2026-12-01}
params:
  id: {type: int}
  name: {default: "-"}
  region: {default: east}
data:
  prices: {file: prices.csv, columns: {price: number}}
body:
  - paragraph: {zh: "尊敬的{name}：以下是您的报价。", en: "Dear {name}, here are your prices."}
  - table: {source: prices, format: {price: currency}}
"""


def make_folder(tmp: Path, n: int = 200, bad: int | None = 57) -> Path:
    (tmp / "report.yaml").write_text(SPEC, encoding="utf-8")
    (tmp / "prices.csv").write_text("item,price\n文档版 Docs,1280\n设计版 Studio,3680.5\n", encoding="utf-8")
    lines = ["id,name,region"]
    for i in range(1, n + 1):
        lines.append(f"{'x' + str(i) if i == bad else i},客户{i},{'east' if i % 2 else 'west'}")
    (tmp / "customers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp


def pdfs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pdf"))


def valid(p: Path) -> bool:
    try:
        return len(pypdf.PdfReader(io.BytesIO(p.read_bytes())).pages) >= 1
    except Exception:
        return False


def test_200_rows_one_bad_then_rerun_skips_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(make_folder(tmp_path))
    rep = run_batch("report.yaml", "customers.csv", "out/{region}/{id}.pdf", workers=2)
    assert (rep.ok, rep.failed, rep.skipped) == (199, 1, 0), rep.summary()
    [bad] = [d for d in rep.documents if d.status == "failed"]
    assert bad.index == 56 and "params.id: 'x57' is not a whole number" in bad.error
    out = list((tmp_path / "out").rglob("*.pdf"))
    assert len(out) == 199 and all(valid(p) for p in out[:5])
    assert "客户报告客户8" in nows(pypdf_text((tmp_path / "out/west/8.pdf").read_bytes())[0])
    man = json.loads((tmp_path / "out" / "docgen-batch.json").read_text("utf-8"))
    assert (man["ok"], man["failed"], man["skipped"], man["complete"]) == (199, 1, 0, True)
    assert man["documents"]["east/x57.pdf"]["status"] == "failed"

    t0 = time.perf_counter()
    again = run_batch("report.yaml", "customers.csv", "out/{region}/{id}.pdf", workers=2)
    assert (again.ok, again.failed, again.skipped) == (0, 1, 199), again.summary()
    assert time.perf_counter() - t0 < rep.seconds * 0.25

    # one row changed: only that document is rendered again
    rows = (tmp_path / "customers.csv").read_text("utf-8").replace("8,客户8,west", "8,新客户,west")
    (tmp_path / "customers.csv").write_text(rows, encoding="utf-8")
    third = run_batch("report.yaml", "customers.csv", "out/{region}/{id}.pdf", workers=1)
    assert (third.ok, third.failed, third.skipped) == (1, 1, 198)
    assert "新客户" in nows(pypdf_text((tmp_path / "out/west/8.pdf").read_bytes())[0])


def test_changed_data_spec_or_deleted_output_renders_again(tmp_path, monkeypatch):
    monkeypatch.chdir(make_folder(tmp_path, n=4, bad=None))
    assert run_batch("report.yaml", "customers.csv", "out/{id}.pdf", workers=1).ok == 4
    (tmp_path / "out" / "2.pdf").unlink()
    r = run_batch("report.yaml", "customers.csv", "out/{id}.pdf", workers=1)
    assert (r.ok, r.skipped) == (1, 3)
    (tmp_path / "out" / "3.pdf").write_bytes(b"tampered")
    assert run_batch("report.yaml", "customers.csv", "out/{id}.pdf", workers=1).ok == 1
    with open(tmp_path / "prices.csv", "a", encoding="utf-8") as f:
        f.write("接口版 API,99\n")
    r = run_batch("report.yaml", "customers.csv", "out/{id}.pdf", workers=1)
    assert (r.ok, r.skipped) == (4, 0)
    assert "接口版API" in nows(pypdf_text((tmp_path / "out/1.pdf").read_bytes())[-1] + pypdf_text(
        (tmp_path / "out/1.pdf").read_bytes())[0])
    assert run_batch("report.yaml", "customers.csv", "out/{id}.pdf", workers=1, force=True).ok == 4


def test_output_names_cannot_escape_and_must_be_unique(tmp_path, monkeypatch):
    monkeypatch.chdir(make_folder(tmp_path, n=2, bad=None))
    rows = [{"id": 1, "name": "../../../etc/passwd"}, {"id": 2, "name": ".hidden"}]
    rep = run_batch("report.yaml", rows, "out/{name}.pdf", workers=1)
    assert rep.ok == 2
    names = sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix == ".pdf")
    assert names == ["_.._.._etc_passwd.pdf", "hidden.pdf"]
    assert not any(p.suffix == ".pdf" for p in tmp_path.parent.iterdir())
    with pytest.raises(SpecError, match="rows 1 and 2 both write same.pdf"):
        run_batch("report.yaml", rows, "out/same.pdf", workers=1)
    with pytest.raises(SpecError, match="must end in .pdf"):
        run_batch("report.yaml", rows, "out/{id}.txt", workers=1)
    with pytest.raises(SpecError, match=r"\{id\.real\}: only plain parameter names"):
        run_batch("report.yaml", rows, "out/{id.real}.pdf", workers=1)


def test_killing_a_batch_leaves_no_partial_pdfs(tmp_path, monkeypatch):
    make_folder(tmp_path, n=200, bad=None)
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from docgen.batch import run_batch\n"
            "run_batch('report.yaml', 'customers.csv', 'out/{id}.pdf', workers=2)\n") % str(ROOT)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    out = tmp_path / "out"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(out.glob("*.pdf"))) < 20:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)          # the driver and its pool workers, mid-write or not
        proc.wait()
    before = pdfs(out)
    assert 20 <= len(before) < 200
    assert all(valid(p) for p in before)             # every PDF that exists is whole
    monkeypatch.chdir(tmp_path)
    rep = run_batch("report.yaml", "customers.csv", "out/{id}.pdf", workers=2)
    assert rep.ok + rep.skipped == 200 and rep.failed == 0
    # every PDF the killed run finished is known (journal): at most the one being recorded is rendered again
    assert rep.skipped >= len(before) - 1, (rep.skipped, len(before))
    assert not list(out.glob(".*.tmp"))              # temp files of the killed run were cleaned up
    assert len(pdfs(out)) == 200 and all(valid(p) for p in pdfs(out))


def test_rows_from_json_and_yaml(tmp_path):
    (tmp_path / "r.json").write_text('[{"id": 1}, {"id": 2}]')
    (tmp_path / "r.yaml").write_text("- {id: 1}\n- {id: 2}\n")
    assert read_rows(tmp_path / "r.json") == read_rows(tmp_path / "r.yaml") == [{"id": 1}, {"id": 2}]
    (tmp_path / "bad.yaml").write_text("id: 1\n")
    with pytest.raises(SpecError, match="expected a list of rows"):
        read_rows(tmp_path / "bad.yaml")


def test_cli_batch_summary_and_exit_codes(tmp_path):
    make_folder(tmp_path, n=3, bad=2)
    cmd = [sys.executable, "-m", "docgen", "batch", "report.yaml", "--rows", "customers.csv", "--out",
           "out/{id}.pdf", "--workers", "1", "--backend", "draft"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env)
    assert run.returncode == 1, run.stderr
    assert "3 documents: 2 ok, 1 failed, 0 skipped" in run.stdout
    assert "params.id: 'x2' is not a whole number" in run.stderr
    assert "Traceback" not in run.stderr
    bad = subprocess.run(cmd[:-4] + ["--out", "out/{nope}.pdf"], cwd=tmp_path, capture_output=True, text=True,
                         env=env)
    assert bad.returncode == 2 and "{nope} is not a parameter" in bad.stderr


def test_sales_example_batch_by_month(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sales = EXAMPLES / "sales-report"
    rep = run_batch(sales / "sales-report.yaml", sales / "months.csv", "out/sales-{month}.pdf", workers=2)
    assert rep.ok == 3
    assert "2026年9月销售月报" in nows(pypdf_text((tmp_path / "out/sales-2026-09.pdf").read_bytes())[0])


def test_ray_engine_renders_the_same_bytes_as_the_local_pool(tmp_path, monkeypatch):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'docgen[ray]'); the Ray engine is "
                                      "optional")
    monkeypatch.chdir(make_folder(tmp_path, n=6, bad=4))
    local = run_batch("report.yaml", "customers.csv", "local/{id}.pdf", workers=2)
    ray = run_batch("report.yaml", "customers.csv", "ray/{id}.pdf", engine="ray", workers=2)
    assert (ray.ok, ray.failed) == (local.ok, local.failed) == (5, 1)
    assert [d.error for d in ray.documents] == [d.error for d in local.documents]
    for p in pdfs(tmp_path / "local"):
        assert (tmp_path / "ray" / p.name).read_bytes() == p.read_bytes(), p.name
