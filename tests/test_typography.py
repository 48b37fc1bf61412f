"""Chinese typography on whole documents, measured by the shared CLREQ checker."""
import subprocess
import sys

import pytest

import docgen
from conftest import ROOT, SHARED


@pytest.mark.skipif(not (SHARED / "bench" / "content.py").exists(), reason="../shared/bench not present")
def test_shared_benchmark_document_has_no_clreq_violations(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCGEN_LAYOUT_PATH", str(ROOT / "bench" / "layouts"))
    sys.path.insert(0, str(SHARED / "bench"))
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from build_docgen import spec_of
        from content import make_doc
    finally:
        sys.path.pop(0)
        sys.path.pop(0)
    out = tmp_path / "bench.pdf"
    res = docgen.render(spec_of(make_doc(), "bench"), out=out)
    assert res.pages > 40
    chk = subprocess.run([sys.executable, str(SHARED / "checks" / "check_pdf.py"), str(out), "--level", "strict"],
                         capture_output=True, text=True)
    assert chk.returncode == 0 and "SUMMARY no violations" in chk.stdout, chk.stdout[-3000:]
    # the checker counted real work: hundreds of soft breaks
    n = int(chk.stdout.split(" soft line breaks")[0].rsplit(" ", 1)[-1])
    assert n > 500
