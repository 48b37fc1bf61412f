"""The PDF text-object writer: set lines and where they go in, text operators on a ReportLab canvas out.

:func:`draw_lines` writes placed :class:`~docgen.typeset.text.Line` s as one PDF text object (BT … ET),
encoding glyphs through ReportLab's TrueType subsetting exactly as ``textOut`` would, with its own
per-font encoding tables; underlines, link annotations and vector hyphens follow the text object.
In a tagged document the text object is a marked-content sequence of its element (or of one element per
line, for a table part), and underlines and hyphens are artifacts (see typeset/structure.py).
"""

from __future__ import annotations

import re

from reportlab.lib.rl_accel import escapePDF

from .structure import ARTIFACT, artifact, open_mark, structure_of
from .text import NOTDEF, Line


def _n(v: float) -> str:
    s = "%.3f" % v
    return s.rstrip("0").rstrip(".") if "." in s else s


def _tables(font, doc) -> tuple:
    """Our encoding tables for ``font`` in ``doc``: (char -> byte, char -> subset, characters known,
    (subset, size) -> Tf operator).  They live on ReportLab's own per-document font state, so they last exactly
    as long as the codes they mirror."""
    state = font.state.get(doc)
    tabs = getattr(state, "_docgen_tables", None)
    if tabs is None:
        font.splitString("", doc)  # creates the state
        state = font.state[doc]
        tabs = state._docgen_tables = ({}, {}, set(), {})
    return tabs


_SAME_RUN = re.compile(r"(.)\1*", re.S)  # a run of one repeated character (here: one subset)


def _encode(font, doc, text: str, tabs=None) -> list[tuple[int, bytes]]:
    """``font.splitString(text, doc)`` — the (subset, bytes) chunks of ReportLab's TrueType subsetting —
    with the per-character work done by ``str.translate``.  Characters are still assigned their codes by
    ReportLab (in order of first appearance, one call each)."""
    low, sub, known, _ = tabs or _tables(font, doc)
    if not known.issuperset(text):
        for ch in dict.fromkeys(text):
            if ch not in known:
                ((k, b),) = font.splitString(ch, doc)
                low[ord(ch)] = chr(b[0])
                sub[ord(ch)] = chr(k)
                known.add(ch)
                if k:
                    sub[-1] = True  # the font has gone past its first subset
    data = text.translate(low).encode("latin-1")
    if -1 not in sub:  # one subset so far (every Latin font, most pages)
        return [(0, data)]
    subs = text.translate(sub)
    first = subs[0]
    if subs.count(first) == len(subs):
        return [(ord(first), data)]
    return [(ord(m.group(1)), data[m.start() : m.end()]) for m in _SAME_RUN.finditer(subs)]


def _subset_font(font, doc, tabs, sub: int, size: float) -> str:
    """The Tf operator for one subset of ``font`` (ReportLab registers the subset on first use)."""
    names = tabs[3]
    op = names.get((sub, size))
    if op is None:
        op = names[(sub, size)] = "%s %s Tf" % (font.getSubsetInternalName(sub, doc), _n(size))
    return op


def _rgb(c) -> tuple | None:
    """The canvas's current colour as an RGB tuple: ReportLab keeps a tuple (set*ColorRGB) or a Color;
    None when it is something else (CMYK, a named separation), so the caller sets and restores it."""
    if c.__class__ is tuple and len(c) == 3:
        return c
    return tuple(c.rgb()) if hasattr(c, "rgb") else None


_SPAN = -2  # the open sequence is an ActualText span


def _plain(line: Line) -> str:
    """What the line says: its glyphs, and a space where the text had one that a CJK–Latin gap replaced."""
    return "".join(_said(pc) for pc in line.pieces)


def _said(pc, a: int = 0, b: int | None = None) -> str:
    """The piece's text[a:b] with the spaces of the text that vanished put back."""
    t = pc.text
    b = len(t) if b is None else b
    if not pc.spaces:
        return t[a:b]
    out, last = [], a
    for o in pc.spaces:
        if a <= o < b and (o > a or a == 0):
            out += [t[last:o], " "]
            last = o
    out.append(t[last:b])
    return "".join(out)


_GAP = 0.05  # em: a wider gap between two pieces reads as a space
_SPREAD = 0.08  # em: Han characters spaced wider than this read as words with spaces between (poppler)


def _spans(line: Line, uncovered) -> list[tuple[int, int, int, int, str]] | None:
    """The ActualText spans a line needs so that text extraction reads exactly what the text said: one
    across every gap between two pieces that is not a space of the text (the ¼ em CJK–Latin space, which
    extractors turn into a space: `1936 年` for 1936年) — just the glyph either side, a space in its
    ActualText where the text had one — and one around every character no font has (drawn as .notdef,
    which would extract as nothing or U+0000) — and one around a run of Han characters spread further apart
    than extractors read as one word (a loose line).  Spans that touch are merged.  Returns
    (first piece, offset, last piece, end offset, text) per span, or None."""
    pieces = line.pieces
    if len(pieces) == 1:  # most lines: one piece, nothing to mark
        pc = pieces[0]
        if (
            not pc.spaces
            and not (pc.char_space > _SPREAD * pc.size and len(pc.text) > 1 and pc.text[0] >= "\u2e80")
            and (uncovered is None or uncovered(pc) is None)
        ):
            return None
    marks: list[list[int]] = []  # [piece, offset, piece, end] of each span, in order
    for j, pc in enumerate(pieces):
        t = pc.text
        if len(t) > 1 and pc.char_space > _SPREAD * pc.size and t[0] >= "\u2e80":
            ivs = [(0, len(t))]  # Han characters spread apart: read as one run, not as spaced-out words
        elif pc.spaces or uncovered is not None:
            ivs = [(o - 1, o + 1) for o in pc.spaces if o > 0]  # a space that vanished inside the piece
            bad = uncovered(pc) if uncovered is not None else None
            if bad:
                ivs += [(i, i + 1) for i, ch in enumerate(t) if ch in bad]
            ivs.sort()
        else:
            ivs = []
        for a, b in ivs:
            if marks and marks[-1][2] == j and marks[-1][3] >= a:
                marks[-1][3] = max(marks[-1][3], b)
            else:
                marks.append([j, a, j, b])
        if j + 1 < len(pieces):
            nx = pieces[j + 1]
            if (
                t
                and nx.text
                and t[-1] != " "
                and nx.text[0] != " "
                and ((nx.spaces and nx.spaces[0] == 0) or nx.x - pc.x - pc.width > _GAP * min(pc.size, nx.size))
            ):
                if marks and (marks[-1][2], marks[-1][3]) >= (j, len(t) - 1):
                    marks[-1][2:] = [j + 1, 1]
                else:
                    marks.append([j, len(t) - 1, j + 1, 1])
    if not marks:
        return None
    out = []
    for j0, i0, j1, i1 in marks:
        if j0 == j1:
            text = _said(pieces[j0], i0, i1)
        else:
            parts = [_said(pieces[j0], i0)]
            for j in range(j0 + 1, j1 + 1):
                parts.append(_said(pieces[j], 0, i1 if j == j1 else None))
            text = "".join(parts)
        out.append((j0, i0, j1, i1, text))
    return out


def _text_string(text: str) -> str:
    """A PDF text string of ``text``: ASCII as a literal (a quarter of the bytes), else UTF-16BE in hex."""
    if text.isascii():
        return "(%s)" % escapePDF(text)
    return "<FEFF%s>" % text.encode("utf-16-be").hex().upper()


_HEADINGS = frozenset(("H1", "H2", "H3", "H4", "H5", "H6", "H"))


def _read(lines: list[Line]) -> str:
    """What lines of one element say, joined: nothing at a hyphenation or next to a Han character, else a
    space (the word space the line break took)."""
    out, prev = "", lines[0]
    for ln in lines:
        t = _plain(ln)
        if out and t and not _joins(prev) and not (out[-1] >= "\u2e80" or t[0] >= "\u2e80"):
            out += " "
        out += t
        prev = ln
    return out


def _joins(line: Line) -> bool:
    """Whether the line's last word goes on at the next line: hyphenated by docgen (the hyphen is drawn, not
    text), or ending in a hyphen of the text (Qwen-|Image, a URL's section-|two), which extractors would
    take for a hyphenation and remove: either way the two lines are read through one ActualText span."""
    if line.hyphen is not None:
        return True
    return not line.last and bool(line.pieces) and line.pieces[-1].text.endswith("-")


_CHARSETS: dict = {}  # face -> the characters it has (its cmap's)


def _uncovered(pc) -> set | None:
    """The characters of a piece its face has no glyph for (drawn as .notdef), or None."""
    if not NOTDEF or NOTDEF.isdisjoint(pc.text):  # the usual case: no glyph was ever drawn as .notdef
        return None
    face = pc.face
    got = _CHARSETS.get(face)
    if got is None:
        got = _CHARSETS[face] = frozenset(map(chr, face._cmap))
    if got.issuperset(pc.text):
        return None
    return set(pc.text) - got


def draw_line(canvas, line: Line, x0: float, baseline: float, tag=None) -> None:
    """Draw one line with its left edge at ``x0`` and its baseline at ``baseline`` on a ReportLab canvas
    (see :func:`draw_lines`)."""
    draw_lines(canvas, ((line, x0, baseline),), tag)


def draw_lines(canvas, placed, tag=None) -> None:
    """Draw lines, each given as (line, left edge x0, baseline), on a ReportLab canvas, in that order.

    Writes one PDF text object (BT … ET) for all of them: per piece Tf/Tc/Tw only when they change, a text
    matrix and the glyphs, encoded through ReportLab's TrueType subsetting exactly as ``textOut`` does
    (the same operators ``beginText``/``setFont``/``setCharSpace``/``textOut`` would write, without their
    per-call overhead); underlines, link annotations and hyphens follow the text object.  Leaves Tc, Tw,
    Ts, the render mode and the colours as it found them.

    ``tag`` (a tagged document only): the structure element the text belongs to, ``ARTIFACT``, or a list
    of elements, one per placed line; None makes a paragraph of its own (extensions that draw lines one by
    one: their text is tagged, in drawing order)."""
    doc = canvas._doc
    st = structure_of(canvas)
    tags = None
    if st is not None:
        if st.nested:
            st = None  # inside an artifact or an element's sequence already
        elif tag is None:
            tag = st.element("P")
        elif tag.__class__ is list:
            tags, tag = tag, None
    escape = escapePDF
    fonts = canvas.__dict__.get("_docgen_tables")  # font -> its tables, for this canvas's document
    if fonts is None:
        fonts = canvas._docgen_tables = {}
    flip = "1 0 0 1 " if canvas.bottomup else "1 0 0 -1 "
    code = ["BT"]
    add = code.append
    # marked content lies inside the text object: a sequence per element, opened at its first line with text,
    # and a sequence of its own (with ActualText) for a run of hyphenated lines
    current = None  # the element whose sequence is open (_SPAN: a span's)
    span_end = -1  # the line that closes an open ActualText span
    page = canvas.getPageNumber() - 1 if st is not None else 0
    canvas_rgb = _rgb(getattr(canvas, "_fillColorObj", None))
    color = canvas_rgb
    font = subset = cs = ws = None
    tabs: tuple = ()
    size = rise = 0.0
    mode = 0
    emboldened = False
    extras = []  # lines with underlines, links or a hyphen
    unc = _uncovered if NOTDEF else None  # no glyph was ever drawn as .notdef: nothing to look for
    for i, (line, x0, baseline) in enumerate(placed):
        if st is None and span_end < 0 and _joins(line) and i + 1 < len(placed):
            # untagged: the hyphenated word's halves are still read as one word
            span_end = i + 1
            while _joins(placed[span_end][0]) and span_end + 1 < len(placed):
                span_end += 1
            add("/Span <</ActualText %s>> BDC" % _text_string("".join(_plain(p[0]) for p in placed[i : span_end + 1])))
            current = _SPAN
        elif st is not None and span_end < 0 and line.pieces:
            el = tag if tags is None else tags[i]
            last = i
            if el != current and el != ARTIFACT and st.role(el) in _HEADINGS:
                while last + 1 < len(placed) and (tags is None or tags[last + 1] == el):
                    last += 1
            if last > i or (
                el != current
                and el != ARTIFACT
                and st.role(el) in _HEADINGS
                and (_joins(line) or _spans(line, _uncovered) is not None)
            ):
                lines = [p[0] for p in placed[i : last + 1]]
                if any(_joins(ln) or _spans(ln, _uncovered) is not None for ln in lines):
                    # a heading that needs ActualText reads through one sequence of its own, with one MCID:
                    # (readers and checkers take a heading's content to be one marked-content item)
                    if current is not None:
                        add("EMC")
                    add(
                        "/%s <</MCID %d /ActualText %s>> BDC"
                        % (st.role(el), st.mark(el, page), _text_string(_read(lines)))
                    )
                    span_end, current = last, _SPAN
                elif el != current:
                    if current is not None:
                        add("EMC")
                    add(open_mark(canvas, st, el))
                    current = el
            elif _joins(line) and el != ARTIFACT and i + 1 < len(placed) and (tags is None or tags[i + 1] == el):
                # the hyphen is a path, not text: the word's halves are read as the spec wrote it (a run of
                # hyphenated lines is one span, closed after the line that ends the last word)
                span_end = i + 1
                while (
                    _joins(placed[span_end][0])
                    and span_end + 1 < len(placed)
                    and (tags is None or tags[span_end + 1] == el)
                ):
                    span_end += 1
                if current is not None:
                    add("EMC")
                add(
                    "/Span <</MCID %d /ActualText %s>> BDC"
                    % (st.mark(el, page), _text_string("".join(_plain(p[0]) for p in placed[i : span_end + 1])))
                )
                current = _SPAN
            elif el != current:
                if current is not None:
                    add("EMC")
                add(open_mark(canvas, st, el))
                current = el
        if line.hyphen is not None:
            extras.append((line, x0, baseline, i))
        y = " %.3f Tm" % baseline
        spans = _spans(line, unc) if span_end < 0 and line.pieces else None
        events: dict[int, dict[int, list[str]]] | None = None  # piece -> glyph offset -> operators before it
        if spans is not None:
            events = {}
            # in a tagged document the span is a sequence of the element's own, between two of its others (a
            # span nested in the element's sequence would leave its glyphs without an MCID for readers that
            # look only at the innermost sequence)
            el_open = current if st is not None and current is not None and current not in (ARTIFACT, _SPAN) else None
            for j0, i0, j1, i1, text in spans:
                if st is not None and el_open is not None:
                    opener = "EMC /Span <</MCID %d /ActualText %s>> BDC" % (st.mark(el_open, page), _text_string(text))
                    closer = "EMC " + open_mark(canvas, st, el_open)
                else:
                    opener, closer = "/Span <</ActualText %s>> BDC" % _text_string(text), "EMC"
                events.setdefault(j0, {}).setdefault(i0, []).append(opener)
                events.setdefault(j1, {}).setdefault(i1, []).insert(0, closer)
        for j, pc in enumerate(line.pieces):
            face = pc.face
            f = face.reportlab_font
            if f is not font or pc.size != size:
                font, size, subset = f, pc.size, None
                tabs = fonts.get(f)
                if tabs is None:
                    tabs = fonts[f] = _tables(f, doc)
            pcs, pws = pc.char_space, pc.word_space
            if pcs != cs:
                cs = pcs
                add("%.3f Tc" % cs)
            if pws != ws and (pws or " " in pc.text):
                ws = pws
                add("%.3f Tw" % ws)
            if pc.color != color:
                color = tuple(pc.color)
                add("%s %s %s rg" % (_n(color[0]), _n(color[1]), _n(color[2])))
            want = 2 if face.synthetic_bold else 0
            if want != mode:
                if want:
                    # fill + stroke at 3 % of the size emboldens a single-weight font
                    add("%s %s %s RG %s w" % (*(_n(c) for c in pc.color), _n(pc.size * 0.03)))
                    emboldened = True
                add("%d Tr" % want)
                mode = want
            if pc.rise != rise:
                rise = pc.rise
                add(_n(rise) + " Ts")
            if pc.underline or pc.href:
                if not extras or extras[-1][0] is not line:
                    extras.append((line, x0, baseline, i))
            add("%s%.3f%s" % (flip, x0 + pc.x, y))
            at = events.get(j) if events is not None else None
            text = pc.text
            if not at and -1 not in tabs[1] and tabs[2].issuperset(text):
                # the usual piece: glyphs with codes already, in a font of one subset (_encode's first case)
                if subset != 0:
                    subset = 0
                    add(_subset_font(font, doc, tabs, 0, size))
                add("(%s) Tj" % escape(text.translate(tabs[0]).encode("latin-1")))
                continue
            chunks = _encode(font, doc, text, tabs)
            if at:
                # operators between glyphs: the encoded strings cut there (one byte a glyph)
                spaced = pcs or pws
                strings, o = 0, 0
                cuts = sorted(at)
                ci, nc = 0, len(cuts)
                for sub, chunk in chunks:
                    if sub != subset:
                        if ci < nc and cuts[ci] == o:
                            code.extend(at[o])
                            ci += 1
                        subset = sub
                        add(_subset_font(font, doc, tabs, sub, size))
                    a, n = 0, len(chunk)
                    while a < n:
                        if ci < nc and cuts[ci] == o:
                            code.extend(at[o])
                            ci += 1
                        b = n if ci == nc else min(n, a + cuts[ci] - o)
                        add(("[0 (%s)] TJ" if strings and spaced else "(%s) Tj") % escape(chunk[a:b]))
                        strings += 1
                        o += b - a
                        a = b
                if ci < nc:
                    code.extend(at[cuts[ci]])
                continue
            if len(chunks) == 1:
                sub, chunk = chunks[0]
                if sub != subset:
                    subset = sub
                    add(_subset_font(font, doc, tabs, sub, size))
                add("(%s) Tj" % escape(chunk))
                continue
            # after a subset switch the next string opens with a zero displacement, [0 (…)] TJ: Tc follows
            # every glyph, a string's last one included (PDF 32000 9.3.2), but pdfminer (so pdfplumber) adds
            # it only between the glyphs of one string or after a number in a TJ array; the 0 makes both agree
            spaced = pcs or pws
            for k, (sub, chunk) in enumerate(chunks):
                if sub != subset:
                    subset = sub
                    add(_subset_font(font, doc, tabs, sub, size))
                add(("[0 (%s)] TJ" if k and spaced else "(%s) Tj") % escape(chunk))
        if i == span_end:
            add("EMC")
            current, span_end = None, -1
    if len(code) > 1:
        if current is not None:
            add("EMC")
        if cs:
            add("0 Tc")
        if ws:
            add("0 Tw")
        if rise:
            add("0 Ts")
        if mode:
            add("0 Tr")
        add("ET")
        canvas._code.append(" ".join(code))
        if color != canvas_rgb:
            # restore the fill colour the canvas believes is current
            canvas._code.append("%s %s %s rg" % tuple(_n(c) for c in (canvas_rgb or (0, 0, 0))))
        if emboldened:
            rgb = _rgb(getattr(canvas, "_strokeColorObj", None)) or (0, 0, 0)
            canvas._code.append("%s %s %s RG %s w" % (*(_n(c) for c in rgb), _n(getattr(canvas, "_lineWidth", 1))))
    if extras:
        if st is None:
            for line, x0, baseline, _ in extras:
                _draw_extras(canvas, line, x0, baseline, None, None)
            return
        with artifact(canvas):
            for line, x0, baseline, i in extras:
                _draw_extras(canvas, line, x0, baseline, st, tag if tags is None else tags[i])


def _draw_extras(canvas, line: Line, x0: float, baseline: float, st, el) -> None:
    """A line's underlines, link annotations and hyphen, drawn after its text (``st``, ``el``: the structure
    and element a link belongs to, in a tagged document)."""
    for pc in line.pieces:
        if pc.underline:
            canvas.saveState()
            canvas.setStrokeColorRGB(*pc.color)
            canvas.setLineWidth(pc.size * 0.05)
            y = baseline - pc.size * 0.12
            canvas.line(x0 + pc.x, y, x0 + pc.x + pc.width, y)
            canvas.restoreState()
        if pc.href:
            if st is not None and el is not None and el != ARTIFACT:
                st.annotation(el, canvas.getPageNumber() - 1, len(canvas._annotationrefs), pc.href)
            canvas.linkURL(
                pc.href,
                (
                    x0 + pc.x,
                    baseline - pc.face.descent * pc.size,
                    x0 + pc.x + pc.width,
                    baseline + pc.face.ascent * pc.size,
                ),
                relative=1,
                thickness=0,
            )
    h = line.hyphen
    if h is not None:
        # drawn as a filled path so that the text layer keeps the word whole
        box = h.face.ink("-") or (0.05, 0.22, h.width / h.size - 0.05, 0.29)
        canvas.saveState()
        canvas.setFillColorRGB(*h.color)
        canvas.rect(
            x0 + h.x + box[0] * h.size,
            baseline + box[1] * h.size,
            (box[2] - box[0]) * h.size,
            (box[3] - box[1]) * h.size,
            stroke=0,
            fill=1,
        )
        canvas.restoreState()
