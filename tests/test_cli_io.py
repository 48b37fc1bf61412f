"""The command line as a Unix tool: stdin and stdout, closed pipes, quiet and verbose, a JSON report,
limits, escaped terminal output and named extras."""
import io
import json
import os
import subprocess
import sys

import pytest

from docgen.cli import main, printable

from conftest import ROOT

SPEC = "languages: [en]\nmeta: {title: T}\nbody:\n  - heading: Hello\n  - paragraph: hi\n"


def run(args, stdin: bytes = b"", cwd=None):
    return subprocess.run([sys.executable, "-m", "docgen", *args], input=stdin, capture_output=True, cwd=cwd,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "DOCGEN_BACKEND": "draft",
                               "HF_HUB_OFFLINE": "1", "DOCGEN_CACHE_DIR": os.environ["DOCGEN_CACHE_DIR"]}, timeout=300)


def test_spec_from_stdin_and_pdf_to_stdout(tmp_path):
    r = run(["render", "-", "-o", "-"], SPEC.encode(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"%PDF-") and list(tmp_path.iterdir()) == []      # no file named "-"
    assert b"<stdout>" in r.stderr


def test_stdin_errors_name_stdin_and_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(SPEC.replace("hi", '"h\\x1bi"')))
    assert main(["render", "-", "-o", str(tmp_path / "o.pdf")]) == 2
    assert "<stdin>:5 body.1.paragraph: control character U+001B" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly(tmp_path, monkeypatch, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC, encoding="utf-8")

    class Closed(io.TextIOWrapper):
        def write(self, s):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("docgen.cli._silence_stdout", lambda: None)
    monkeypatch.setattr(sys, "stdout", Closed(io.BytesIO()))
    assert main(["layouts"]) == 141
    assert capsys.readouterr().err == ""


def test_json_report_quiet_and_verbose(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    assert main(["render", str(spec), "-o", str(tmp_path / "o.pdf"), "--json"]) == 0
    out = capsys.readouterr()
    rep = json.loads(out.out)
    assert rep["ok"] and rep["documents"][0]["pages"] >= 1
    assert rep["documents"][0]["headings"][0]["text"] == "Hello"
    assert main(["render", str(spec), "-o", str(tmp_path / "o.pdf"), "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["render", str(spec), "-o", str(tmp_path / "o.pdf"), "-v"]) == 0
    assert "Hello  p." in capsys.readouterr().out


def test_max_seconds_stops_a_render(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC + "".join(f"  - paragraph: {'word ' * 200}\n" for _ in range(300)), encoding="utf-8")
    assert main(["render", str(spec), "-o", str(tmp_path / "o.pdf"), "--max-seconds", "0.5",
                 "--max-memory", "4G"]) == 1
    assert "longer than 0.5 s" in capsys.readouterr().err and not (tmp_path / "o.pdf").exists()


def test_terminal_output_escapes_control_characters(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text("languages: [en]\nmeta: {title: T}\nbody:\n  - image: {path: \"gpj.\\u202eevil.png\"}\n",
                    encoding="utf-8")
    assert main(["render", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "file not found" in err and "\u202e" not in err and "gpj.\\u202eevil.png" in err
    assert printable("a\x1b[31mb\u202ec") == "a\\x1b[31mb\\u202ec"


def test_a_missing_extra_is_named(monkeypatch, capsys, tmp_path):
    def no_apscheduler(*a, **k):
        raise ModuleNotFoundError("No module named 'apscheduler'", name="apscheduler")
    monkeypatch.setattr("docgen.batch.schedule.history", no_apscheduler)
    assert main(["schedule", "history", str(tmp_path / "jobs.yaml")]) == 1
    err = capsys.readouterr().err
    assert "pip install 'docgen[schedule]'" in err and "internal error" not in err


def test_check_reads_stdin(tmp_path):
    pytest.importorskip("pdfplumber")
    r = run(["check", "-"], b"not a pdf", cwd=tmp_path)
    assert r.returncode == 2 and b"internal error" not in r.stderr


def test_schedule_history_needs_no_apscheduler(tmp_path, monkeypatch, capsys):
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text("jobs:\n  j: {spec: s.yaml, cron: '0 6 1 * *', output: 'out/{date}.pdf'}\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "apscheduler", None)
    monkeypatch.setitem(sys.modules, "apscheduler.triggers.cron", None)
    assert main(["schedule", "history", str(jobs)]) == 0
    assert "internal error" not in capsys.readouterr().err
