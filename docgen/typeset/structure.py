"""The logical structure of a typeset document: the layout tree's roles in, plain structure records out.

While the Typesetter builds flowables it names an element for each block (a paragraph is a ``P``, a heading
an ``H1``, a table cell a ``TD``…); while the flowables draw, every marked-content sequence they write
(``/P <</MCID 3>> BDC … EMC``) is recorded against its element, and every link annotation too.  An element
joins its parent the first time it gets content, so the structure's order is the drawing order: in a
parallel edition a pair's Chinese block is drawn (and read) before its English one, however the lines sit
side by side.  What is not content — running heads, folios, bullets, leader dots, backgrounds, the AI label,
a table's repeated header — is written as an ``/Artifact``.

:meth:`Structure.records` gives plain data (no ReportLab, no pypdf) that docgen/pdf turns into the
``/StructTreeRoot``: a list of elements, each a dict with ``role``, ``lang``, ``alt``, ``scope`` (for a
``TH``), ``contents`` (for a ``Link``) and ``kids``, where a kid is ``("el", index)``, ``("mc", page, mcid)``
or ``("annot", page, index among the page's annotations)``; element 0 is the ``Document``.
"""

from __future__ import annotations

from contextlib import contextmanager

ARTIFACT = -1  # the tag of content that is not part of the document's text
BCP47 = {"zh": "zh-CN", "en": "en"}  # the layout tree's languages as PDF /Lang values


class Structure:
    """Elements and marked content recorded while one pass of a document is drawn."""

    def __init__(self):
        self._role: list[str] = ["Document"]
        self._parent: list[int] = [-1]
        self._attrs: list[dict] = [{}]
        self._kids: list[list] = [[]]
        self._attached: list[bool] = [True]
        self._mcid: dict[int, int] = {}  # page (0-based) -> next MCID
        # > 0 while an artifact or one element's marked content is being drawn: what is drawn inside (the
        # labels of a chart, the text of an AI label) belongs to it and opens no sequence of its own
        self.nested = 0

    def element(self, role: str, parent: int = 0, **attrs) -> int:
        """A new element (not yet in the tree: it joins its parent when it first gets content)."""
        self._role.append(role)
        self._parent.append(parent)
        self._attrs.append({k: v for k, v in attrs.items() if v})
        self._kids.append([])
        self._attached.append(False)
        return len(self._role) - 1

    def role(self, el: int) -> str:
        return self._role[el]

    def _attach(self, el: int) -> None:
        while not self._attached[el]:
            self._attached[el] = True
            parent = self._parent[el]
            self._kids[parent].append(("el", el))
            el = parent

    def mark(self, el: int, page: int) -> int:
        """A new MCID on ``page`` (0-based) for element ``el``."""
        n = self._mcid.get(page, 0)
        self._mcid[page] = n + 1
        self._kids[el].append(("mc", page, n))
        if not self._attached[el]:
            self._attach(el)
        return n

    def annotation(self, el: int, page: int, index: int, contents: str) -> None:
        """A link annotation (the ``index``-th of ``page``'s annotations) under a new ``Link`` in ``el``."""
        link = self.element("Link", el, contents=contents)
        self._kids[link].append(("annot", page, index))
        self._attach(link)

    def records(self) -> list[dict]:
        """The elements reachable from the Document, in plain data (see the module docstring), renumbered so
        that an element's index is its position in the list."""
        order: list[int] = []
        stack = [0]
        while stack:  # depth first, kids in order
            el = stack.pop()
            order.append(el)
            stack.extend(k[1] for k in reversed(self._kids[el]) if k[0] == "el")
        index = {el: i for i, el in enumerate(order)}
        return [
            dict(
                self._attrs[el],
                role=self._role[el],
                kids=[("el", index[k[1]]) if k[0] == "el" else k for k in self._kids[el]],
            )
            for el in order
        ]


def structure_of(canvas) -> Structure | None:
    """The Structure the canvas records into, or None (an untagged document): set on the canvas at each page
    start (ReportLab detaches the document template before the last page's end is drawn)."""
    return canvas.__dict__.get("_docgen_structure")


def open_mark(canvas, st: Structure, el: int) -> str:
    """The operator opening a marked-content sequence for element ``el`` (or an artifact)."""
    if el == ARTIFACT:
        return "/Artifact BMC"
    return "/%s <</MCID %d>> BDC" % (st.role(el), st.mark(el, canvas.getPageNumber() - 1))


@contextmanager
def _sequence(canvas, st, opener: str):
    """One marked-content sequence around what is drawn inside; sequences inside it add no marks."""
    canvas._code.append(opener)
    st.nested += 1
    try:
        yield
    finally:
        st.nested -= 1
        canvas._code.append("EMC")


@contextmanager
def artifact(canvas, kind: str = ""):
    """Everything drawn inside is an artifact (``kind``: Pagination, Layout or Background)."""
    st = structure_of(canvas)
    if st is None:
        yield
        return
    with _sequence(canvas, st, "/Artifact <</Type /%s>> BDC" % kind if kind else "/Artifact BMC"):
        yield


@contextmanager
def marked(canvas, el: int | None):
    """Everything drawn inside (an image, a chart with its labels) is content of element ``el``."""
    st = structure_of(canvas)
    if st is None or el is None or st.nested:
        yield
        return
    with _sequence(canvas, st, open_mark(canvas, st, el)):
        yield
