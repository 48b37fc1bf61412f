"""The text layer reads what the spec said: no space where the ¼ em CJK–Latin gap stands without one in the
text (`1936年`, not `1936 年`), a space where the text had one, hyphenated words whole, and a character no
font covers as itself (never U+0000 or nothing).  Read back with poppler's pdftotext, which turns any gap
wider than about a tenth of an em into a space, and with pypdf."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import docgen

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [
    p
    for p in sorted(ROOT.glob("examples/*.yaml")) + sorted(ROOT.glob("examples/*/*.yaml"))
    if "\nlayout:" in "\n" + p.read_text(encoding="utf-8")
]
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
_HAN = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "x.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def joined(text: str) -> str:
    """Extracted lines joined as the paragraph reads: nothing at a line end next to a Han character, a space
    between two Latin words (the only normalisation; spaces inside a line are compared as they are)."""
    out = []
    for line in (ln for ln in text.split("\n") if ln.strip() and "\x0c" not in ln):
        if out and not (_HAN.match(out[-1][-1]) or _HAN.match(line[0])):
            out.append(" ")
        out.append(line)
    return "".join(out)


def render_one(paragraph: str, tmp_path: Path, languages=("zh",), tagged=False) -> str:
    spec = {
        "layout": "report",
        "languages": list(languages),
        "meta": {"title": "T"},
        "body": [{"paragraph": paragraph}],
        "pdf": {"tagged": tagged},
    }
    text = pdftotext(docgen.render(spec).pdf, tmp_path)
    # the report's title page and running furniture: keep the page with the paragraph, less its folio
    body = text.split("\x0c")[1]
    return joined("\n".join(ln for ln in body.split("\n") if not re.fullmatch(r"第 \d+ 页 / 共 \d+ 页|T", ln)))


MIXED = [
    "1936年，他在柏林学习。2011年6月24日，“杭州西湖文化景观”被列入《世界遗产名录》。",
    "面积约6.39平方千米，比2010年增加了12%，使用Python和ReportLab排版。",
    "他在 Berlin 学习，用 Qwen-Image 生成插图，版本 v2.1 发布于 2026 年。",
    "混排：中文English中文 mixed 中文，结尾是Latin",
    # a loose line: the address cannot break where the line needs it, so the Han characters before it spread
    "安装说明见https://docs.example.org/guide/install-and-configure/chapter-three/section-two/for-admins?lang=zh"
    "&version=2.4.1的第三节。",
]


@needs_pdftotext
@pytest.mark.parametrize("tagged", [False, True])
@pytest.mark.parametrize("text", MIXED)
def test_cjk_latin_boundaries_read_as_the_text_wrote_them(text, tagged, tmp_path):
    assert render_one(text, tmp_path, tagged=tagged) == text


@needs_pdftotext
@pytest.mark.parametrize("tagged", [False, True])
def test_a_character_no_font_covers_reads_as_itself(tagged, tmp_path):
    text = "罕见字𠀀出现在人名中，𪚥也是。"
    got = render_one(text, tmp_path, tagged=tagged)
    assert got == text
    assert "\x00" not in got


@needs_pdftotext
@pytest.mark.parametrize("tagged", [False, True])
def test_hyphenated_words_read_whole(tagged, tmp_path):
    words = (
        "internationalization characteristically incomprehensibilities electroencephalography "
        "interdisciplinary responsibilities "
    ) * 6
    spec = {
        "layout": "report",
        "languages": ["en"],
        "meta": {"title": "T"},
        "body": [{"paragraph": words.strip()}],
        "pdf": {"tagged": tagged},
    }
    res = docgen.render(spec)
    text = pdftotext(res.pdf, tmp_path).split("\x0c")[1]
    lines = [ln for ln in text.split("\n") if ln.strip() and not re.fullmatch(r"Page \d+ of \d+|T|\d+", ln)]
    assert joined("\n".join(lines)) == words.strip()


# ------------------------------------------------------------------------------------------------ examples


def spec_texts(node, out: list[str]) -> list[str]:
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, dict):
        for v in node.values():
            spec_texts(v, out)
    elif isinstance(node, list):
        for v in node:
            spec_texts(v, out)
    return out


@needs_pdftotext
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_extract_without_spurious_or_missing_spaces(path, tmp_path):
    """Every extracted line that is a piece of a text in the spec (compared without spaces) is that piece
    exactly, spaces included: a space the gap made up, or one the text had and the layer lost, fails."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    texts = [t for t in spec_texts(spec, []) if len(t) >= 4]
    bare = [re.sub(r"\s", "", t) for t in texts]
    text = pdftotext(docgen.render(path).pdf, tmp_path)
    checked = 0
    for line in (ln.strip() for ln in text.replace("\x0c", "\n").split("\n")):
        key = re.sub(r"\s", "", line)
        if len(key) < 4 or not _HAN.search(key):
            continue
        owners = [t for t, b in zip(texts, bare) if key in b]
        if not owners:
            continue  # furniture, or text the layout rewrote
        checked += 1
        assert any(line in re.sub(r"\s*\n\s*", "", t) or line in t for t in owners), (line, owners[0][:80])
    assert checked >= 3, "too few lines of the spec's text found to check"
