"""Properties of render over generated specs: mixed Chinese/English text, markup-like text, numbers, empty-ish and
very long blocks, headings, lists and tables, in the report, brochure and poster layouts and every edition.

(a) render raises nothing but :class:`docgen.DocgenError`;
(b) the text layer holds the spec's text: every text unit (heading, paragraph, list item, table cell) in every
    language of the edition (a plain string is language-neutral and is set once), as a reader sees it — ``docgen.spec.inline.plain`` of the spec string, so the inline
    markers ``**``, ``*``, ``[…](…)`` and `` ` `` are syntax and everything else (``<b>``, ``&amp;``, ``{{ x }}``)
    is literal — appears in the text layer with whitespace removed (line ends, hyphenation and the CJK–Latin gap
    may add or drop whitespace; no character may be lost, added inside or reordered).  Text layer: the characters
    pdfplumber reads, in content-stream order, outside the running header and footer.  In the single-column
    editions (stacked, zh, en) the non-table units also appear in spec order;
(c) two renders of one spec give identical bytes.

Profiles (tests/conftest.py): ``ci`` (default, small) and ``slow`` (``HYPOTHESIS_PROFILE=slow``, 10,000 examples).
"""
import io
import signal


import pdfplumber
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import docgen
from docgen.render import editions_of
from docgen.spec.inline import plain
from pdfutil import MM, nows


# -- text --------------------------------------------------------------------------------------------------

HANZI = ("的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可里后"
         "小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长"
         "知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间"
         "新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体"
         "别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利"
         "受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百"
         "吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七"
         "必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历"
         "越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落")
PUNCT_ZH = "，。、；：？！“”‘’（）《》【】——……·「」"
LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
MARKUP = ["<b>", "</b>", "&amp;", "&lt;", "{{ x }}", "{% if %}", "<font color=red>", "</font>", "**", "*", "`",
          "[a](b)", "[link](https://example.com/a?b=1&c=2)", "**bold**", "*it*", "`code()`", "\\*", "\\", "<br/>",
          "]]>", "<![CDATA[", "&#x41;", "%s", "{x}", "$1", "\u00a0"]

words_en = st.text(LATIN, min_size=1, max_size=14)
words_zh = st.text(HANZI, min_size=1, max_size=12)
numbers = st.one_of(st.integers(-10**9, 10**12).map(str),
                    st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: f"{f:.2f}"),
                    st.integers(0, 100).map(lambda n: f"{n}%"), st.sampled_from(["3.1M", "20B", "1,234,567", "2026-11-28"]))
pieces = st.one_of(words_en, words_zh, numbers, st.sampled_from(MARKUP), st.sampled_from(list(PUNCT_ZH + ".,;:!?()'\"-/")))
seps = st.sampled_from(["", " ", " ", "", "\n"])


@st.composite
def texts(draw, max_pieces=24):
    """A piece of mixed text, sometimes very long, sometimes a single character."""
    n = draw(st.one_of(st.integers(1, 4), st.integers(1, max_pieces), st.just(300 if draw(st.booleans()) else 1)))
    out = []
    for _ in range(n):
        out.append(draw(pieces))
        out.append(draw(seps))
    s = "".join(out).strip()
    return s or draw(words_zh)


def localized(langs):
    if len(langs) == 1:
        return texts()
    return st.one_of(texts(), st.fixed_dictionaries({"zh": texts(), "en": texts()}))


def blocks(langs):
    t = localized(langs)
    short = st.one_of(st.builds(lambda w: w, words_zh), words_en, numbers, st.sampled_from(MARKUP[:12]))
    cell = st.one_of(short, t) if len(langs) == 1 else st.one_of(short, st.fixed_dictionaries({"zh": short, "en": short}))

    @st.composite
    def table(draw):
        cols = draw(st.integers(1, 4))
        rows = draw(st.integers(0, 6))
        return {"table": {"header": draw(st.lists(cell, min_size=cols, max_size=cols)),
                          "rows": [draw(st.lists(cell, min_size=cols, max_size=cols)) for _ in range(rows)]}}

    return st.one_of(
        st.builds(lambda x: {"paragraph": x}, t),
        st.builds(lambda x, lvl: {"heading": {"text": x, "level": lvl}}, t, st.integers(1, 3)),
        st.builds(lambda items, o: {"list": {"items": items, "ordered": o}}, st.lists(t, min_size=1, max_size=5), st.booleans()),
        table(),
    )


@st.composite
def specs(draw):
    layout = draw(st.sampled_from(["report", "brochure", "poster"]))
    langs = draw(st.sampled_from([["zh"], ["en"], ["zh", "en"], ["en", "zh"]]))
    spec = {"layout": layout, "languages": langs, "meta": {"title": draw(words_zh) + " " + draw(words_en)},
            "body": draw(st.lists(blocks(langs), min_size=1, max_size=3 if layout == "poster" else 6))}
    if len(langs) == 2:
        spec["bilingual"] = draw(st.sampled_from(["parallel", "stacked", "zh", "en"]))
    try:
        editions = editions_of(docgen.Document.model_validate(spec))
    except Exception:            # an invalid spec: render must say so with a DocgenError
        editions = [None]
    return spec, draw(st.sampled_from(editions))


# -- reading the PDF back ----------------------------------------------------------------------------------

# the body frame's top and bottom margins (mm) of each layout's body pages: the running header and footer lie outside
MARGINS = {"report": (28, 26), "brochure": (22, 22), "poster": (0, 0)}


def text_layer(pdf: bytes, layout: str) -> str:
    top, bottom = MARGINS[layout]
    out = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            for c in page.chars:
                if c["top"] >= top * MM - 1 and c["bottom"] <= page.height - bottom * MM + 1:
                    out.append(c["text"])
    return nows("".join(out))


def units(spec, edition):
    """(text unit in reading form, in order?) for each language the edition shows."""
    langs = spec["languages"] if edition in ("parallel", "stacked") else [edition]

    def of(v):
        # a plain string is language-neutral and set once (<t lang="*">); a {zh, en} text once per language
        return [v] if isinstance(v, str) else [v[lang] for lang in langs]

    out = []
    for b in spec["body"]:
        if "paragraph" in b:
            out += [(u, True) for u in of(b["paragraph"])]
        elif "heading" in b:
            out += [(u, True) for u in of(b["heading"]["text"])]
        elif "list" in b:
            out += [(u, True) for i in b["list"]["items"] for u in of(i)]
        elif "table" in b:
            t = b["table"]
            out += [(u, False) for row in [t["header"], *t["rows"]] for c in row for u in of(c)]
    return [(nows(plain(u)), ordered) for u, ordered in out]


TIME_LIMIT_S = 30       # a render of these small specs takes well under a second; past this it is a hang


class RenderHang(AssertionError):
    pass


def _alarm(signum, frame):
    raise RenderHang(f"render did not finish within {TIME_LIMIT_S} s")


def render(spec, edition):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        return docgen.render(spec, edition=edition, backend="draft")
    except docgen.DocgenError as e:       # (a): the only exception a user may see
        note(f"DocgenError: {e}")
        return None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _subsequence(u: str, layer: str) -> bool:
    it = iter(layer)
    return all(ch in it for ch in u)


SETTINGS = dict(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(**SETTINGS)
@given(specs())
def test_text_layer_holds_the_spec_text(case):
    spec, edition = case
    res = render(spec, edition)
    if res is None:
        return
    layer = text_layer(res.pdf, spec["layout"])
    note(f"text layer: {layer!r}")
    pos = 0
    single_column = edition != "parallel"
    for u, ordered in units(spec, edition):
        if not u:
            continue
        if not ordered or not single_column:
            # a table cell may be cut between pages (the repeated header row and the rest of its row come
            # between its pieces), and in a parallel edition a block cut between pages has the other column's
            # text between its halves: there the unit's text is a subsequence of the layer
            assert _subsequence(u, layer), f"{u!r} is not in the text layer (as a subsequence)"
            continue
        assert u in layer, f"{u!r} is not in the text layer"
        if single_column and ordered:
            at = layer.find(u, pos)
            assert at >= 0, f"{u!r} is out of order (after position {pos})"
            pos = at + len(u)


@settings(**SETTINGS)
@given(specs())
def test_same_spec_same_bytes(case):
    spec, edition = case
    first = render(spec, edition)
    second = render(spec, edition)
    assert (first is None) == (second is None)
    if first is not None:
        assert first.pdf == second.pdf
