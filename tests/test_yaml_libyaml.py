"""Specs are parsed by libyaml where PyYAML has it (~7x faster), with the same reading as PyYAML's own parser:
the same data, the same line of every field, the same errors."""

import glob

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from docgen.errors import SpecError
from docgen.spec import load

pytestmark = pytest.mark.skipif(load._FastLoader is None, reason="PyYAML without libyaml")


def _python_reading(text: str):
    """What PyYAML's own parser makes of ``text``: (data, positions) or the SpecError's problems."""
    fast = load._FastLoader
    load._FastLoader = None
    try:
        return load.parse_yaml(text, "t.yaml")
    except SpecError as e:
        return [str(p) for p in e.problems]
    finally:
        load._FastLoader = fast


def _reading(text: str):
    try:
        return load.parse_yaml(text, "t.yaml")
    except SpecError as e:
        return [str(p) for p in e.problems]


def _same(a, b) -> bool:
    """Equal, with numbers' remembered source text too (YAML 1.2: 0755, 1.10 as written)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return (
        type(a) is type(b)
        and (a == b or a != a and b != b)
        and getattr(a, "source", None) == getattr(b, "source", None)
    )


SNIPPETS = [
    "a: 9:30\nb: 0755\nc: 1.10\nd: No\ne: 0x1F\nf: .inf\ng: -.nan\nh: ~\ni: 2026-11-20\nj: 16:9\nk: +5\n",
    "t: |\n  line one\n   indented\n\n  after a blank\nf: >-\n  folded\n  text\n\n  para\n",
    "q: \"tab\\there \\u00e9 \\U0001F600 \\x41 \\N \\_ \\L \\P end\"\nr: 'it''s'\n",
    "flow: {a: [1, 2, {b: c}], 'd e': \"f\"}\nlist:\n- x\n-   - y\n    - z\n",
    "# comment\nkey: value # trailing\n? complex\n: value\n",
    "a: &anchor 1\nb: *anchor\n",
    "a: 1\na: 2\n",
    "a: !!python/object:os.system x\n",
    "<<: {a: 1}\n",
    "a: [1, 2\nb: 3\n",
    "a:\n\t- tab\n",
    "a: b: c\n",
    'a: "lone \\ud800 surrogate"\n',
    "a: 'unterminated\n",
    "- a\nb: c\n",
    "",
    "just a scalar\n",
    "---\na: 1\n...\n",
    "---\na: 1\n---\nb: 2\n",
    'a: "x\u2028y"\nb: \u00e9\u4e2d\u6587: \u503c\n',
    "\ufeffa: 1\n",
    "a: 1\nb: x\ufeffy\n",
    "a: \x07bell\n",
]


@pytest.mark.parametrize("text", SNIPPETS)
def test_libyaml_reads_a_spec_as_pyyaml_does(text):
    a, b = _reading(text), _python_reading(text)
    assert _same(a, b), (a, b)


def test_every_spec_and_theme_in_the_repository_reads_the_same():
    files = sorted(glob.glob(str(ROOT / "examples" / "**" / "*.yaml"), recursive=True))
    files += sorted(glob.glob(str(ROOT / "layouts" / "**" / "*.yaml"), recursive=True))
    assert len(files) > 10
    for f in files:
        text = open(f, encoding="utf-8").read()
        assert _same(_reading(text), _python_reading(text)), f


_scalar = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(
        [
            "0755",
            "1.10",
            "9:30",
            "No",
            "yes",
            "~",
            "null",
            "true",
            "0x1F",
            "1e3",
            ".inf",
            "2026-01-02",
            "16:9",
            "'q'",
            '"d\\n"',
            "中文",
            "a b",
            "-",
            "''",
            "|\n    block",
        ]
    ),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8).map(
        lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    ),
)


@st.composite
def _documents(draw, depth=0):
    if depth > 2 or draw(st.booleans()):
        return draw(_scalar)
    pad = "  " * (depth + 1)
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(["a", "b", "c", "zh", "en", "9:30", "1"]), min_size=1, max_size=4))
        return "".join(f"\n{pad}{k}: {draw(_documents(depth + 1))}" for k in keys)
    items = draw(st.lists(_documents(depth + 1), min_size=1, max_size=3))
    return "".join(f"\n{pad}- {item}" for item in items)


@settings(max_examples=300, deadline=None)
@given(_documents())
def test_generated_documents_read_the_same(body):
    text = f"root: {body}\n"
    assert _same(_reading(text), _python_reading(text)), text


def test_a_spec_is_read_by_libyaml_and_a_refused_character_is_still_found_first():
    assert type(load._loader("a: 1\n")) is load._FastLoader
    assert type(load._loader("a: x\ufeffy\n")) is load._Loader  # libyaml refuses U+FEFF inside a text
    with pytest.raises(yaml.reader.ReaderError):
        load._loader("a: 1\nb: \x00\n")
