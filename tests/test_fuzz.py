"""A short fuzz run in the suite (a few seconds): mutated and generated YAML → validate and render, mutated
PDFs → ``docgen check``; nothing but a DocgenError escapes, and a render that succeeds gives a PDF that
reopens.  The long run is ``python3 bench/fuzz.py --seconds N`` (the same harness, tests/fuzz_harness.py)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_harness as F

SHORT = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return F.work_folder(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def pdfs(folder):
    return F.seed_pdfs(folder, names=("poster.yaml", "gongwen-han.yaml"))


def test_fuzz_yaml_validate_and_render(folder):
    @SHORT
    @given(case=F.yaml_cases, edition=st.sampled_from(F.EDITIONS))
    def run(case, edition):
        F.run_yaml(folder, *case, edition)

    run()


def test_fuzz_pdf_bytes_check(pdfs):
    @SHORT
    @given(data=st.data(), standard=st.sampled_from(F.STANDARDS))
    def run(data, standard):
        F.run_check(data.draw(F.mutated_pdf(pdfs)), standard)

    run()
