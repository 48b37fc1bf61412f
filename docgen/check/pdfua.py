"""PDF/UA-1 (ISO 14289-1), the machine-checkable part: a finished PDF in, violations in a Report out.

Two sets of rules run.  The ``pdfua`` package's (document language, title, DisplayDocTitle, the pdfuaid
claim, StructTreeRoot, MarkInfo, untagged content, Figure alt, table headers, empty headings, link and
annotation descriptions): each of its errors is a violation ``pdfua:<rule id>``.  And docgen's own, read
with pikepdf from the content streams and the structure tree:

* ``untagged`` — a text-showing operator (Tj, TJ, ', ") outside both an ``/Artifact`` and a marked-content
  sequence with an MCID: the count must be 0;
* ``mcid`` — every MCID in a page's content is claimed by exactly one structure element, and every MCID the
  tree claims exists on its page;
* ``unreachable`` — every element the parent tree names can be reached from the StructTreeRoot;
* ``alt`` — every ``Figure`` has a non-empty ``/Alt`` (or ``/ActualText``);
* ``lang`` — the catalog has a well-formed ``/Lang`` (so every text run's language resolves) and every
  element's ``/Lang`` is well formed;
* ``link`` — every link annotation has ``/Contents`` and a ``/StructParent`` whose element is a ``Link``;
* ``tabs`` — every page with annotations has ``/Tabs /S``;
* ``th-scope`` — every ``TH`` has a Scope (docgen's tables have column headers).

Not checked (they need a human or veraPDF, which these machines cannot reach): whether the tags match
what is seen (a heading tagged as a paragraph), reading order against the visual order, the quality of
alternate descriptions, ActualText for hyphenated words, colour contrast, fonts' glyph-to-Unicode
correctness beyond the ToUnicode maps being present, and the ~90 PDF/UA-1 rules outside the subsets above.
"""

from __future__ import annotations

import re

_TEXT_OPS = frozenset(("Tj", "TJ", "'", '"'))
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def pikepdf_module():
    try:
        import pikepdf
    except ImportError:
        from . import CheckError

        raise CheckError("the PDF/UA and PDF/A checks need pikepdf: pip install 'docgen[pdfua]'") from None
    return pikepdf


def open_pdf(pdf):
    """A pikepdf.Pdf from bytes, a path or a file object."""
    pikepdf = pikepdf_module()
    import io
    import os
    from . import CheckError

    src = (
        io.BytesIO(pdf)
        if isinstance(pdf, (bytes, bytearray))
        else os.fspath(pdf)
        if isinstance(pdf, (str, os.PathLike))
        else pdf
    )
    try:
        return pikepdf.open(src)
    except Exception as e:
        raise CheckError(f"cannot read the PDF: {type(e).__name__}: {e}") from None


def content_marks(pikepdf, page) -> tuple[int, list[int]]:
    """(text-showing operators outside real content and artifacts, the MCIDs of the page in order)."""
    untagged = 0
    mcids: list[int] = []
    stack: list[bool] = []  # per open sequence: does it make what is inside tagged?
    for operands, op in pikepdf.parse_content_stream(page):
        o = str(op)
        if o == "BDC":
            tag, props = operands[0], operands[1]
            mcid = props.get("/MCID") if isinstance(props, pikepdf.Dictionary) else None
            if mcid is not None:
                mcids.append(int(mcid))
            stack.append(str(tag) == "/Artifact" or mcid is not None or (bool(stack) and stack[-1]))
        elif o == "BMC":
            stack.append(str(operands[0]) == "/Artifact" or (bool(stack) and stack[-1]))
        elif o == "EMC":
            if stack:
                stack.pop()
        elif o in _TEXT_OPS and not (stack and stack[-1]):
            untagged += 1
    return untagged, mcids


def _pdfua_package(pdf, report) -> None:
    try:
        import pdfua
    except ImportError:
        report.infos.append("the pdfua package is not installed: its rules did not run (pip install pdfua)")
        return
    import os
    import tempfile

    data = pdf if isinstance(pdf, (bytes, bytearray)) else None
    path = None if data is not None else os.fspath(pdf)
    tmp = None
    if data is not None:
        fd, tmp = tempfile.mkstemp(suffix=".pdf")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        path = tmp
    try:
        result = pdfua.validate(path)
    finally:
        if tmp:
            os.unlink(tmp)
    for f in result.findings:
        page = getattr(f.location, "page", None) or 0
        if f.severity.name == "ERROR":
            report.add(f"pdfua:{f.rule_id}", page, None, f.message)
        else:
            report.infos.append(f"pdfua {f.rule_id} ({f.severity.name.lower()}): {f.message}")


def check(pdf, report) -> None:
    """Add the PDF/UA violations of ``pdf`` (bytes or a path) to ``report``."""
    pikepdf = pikepdf_module()
    _pdfua_package(pdf, report)
    with open_pdf(pdf) as doc:
        report.pages = len(doc.pages)
        root = doc.Root
        lang = str(root.get("/Lang", ""))
        if not _LANG.match(lang):
            report.add(
                "lang",
                0,
                None,
                f"the catalog's /Lang {lang!r} is missing or not a language tag: "
                "the language of text runs cannot be resolved",
            )
        tree = root.get("/StructTreeRoot")
        if tree is None:
            report.add("untagged", 0, None, "no /StructTreeRoot: the file is not tagged")
            return
        # content: MCIDs per page and untagged text
        page_index = {}
        on_page: dict[int, list[int]] = {}
        for i, page in enumerate(doc.pages):
            page_index[page.obj.objgen] = i
            n, mcids = content_marks(pikepdf, page)
            if n:
                report.add(
                    "untagged", i + 1, None, f"{n} text-showing operator(s) outside marked content and artifacts"
                )
            on_page[i] = mcids
            seen = set()
            for m in mcids:
                if m in seen:
                    report.add("mcid", i + 1, None, f"MCID {m} is used twice in the page's content")
                seen.add(m)
            annots = page.obj.get("/Annots") or []
            if len(annots) and str(page.obj.get("/Tabs", "")) != "/S":
                report.add("tabs", i + 1, None, "a page with annotations needs /Tabs /S")
        # the tree, walked from the root
        claimed: dict[tuple[int, int], int] = {}
        reached = set()
        stack: list[tuple] = [(tree.get("/K"), None, None)]
        while stack:
            node, pg, parent_role = stack.pop()
            if node is None:
                continue
            if isinstance(node, pikepdf.Array):
                stack.extend((k, pg, parent_role) for k in reversed(list(node)))
                continue
            if isinstance(node, int):  # an MCID on the element's page
                key = (page_index.get(pg, -1), int(node))
                claimed[key] = claimed.get(key, 0) + 1
                continue
            if not isinstance(node, pikepdf.Dictionary):
                continue
            typ = str(node.get("/Type", ""))
            if typ == "/MCR":
                key = (page_index.get(node.Pg.objgen, -1), int(node.MCID))
                claimed[key] = claimed.get(key, 0) + 1
                continue
            if typ == "/OBJR":
                continue
            if node.objgen in reached:
                continue
            reached.add(node.objgen)
            role = str(node.get("/S", ""))
            here = node.Pg.objgen if "/Pg" in node else pg
            if role == "/Figure" and not str(node.get("/Alt", "") or node.get("/ActualText", "")).strip():
                report.add("alt", page_index.get(here, -1) + 1, None, "a Figure without /Alt")
            if role == "/TH":
                attrs = node.get("/A")
                attrs = [attrs] if isinstance(attrs, pikepdf.Dictionary) else list(attrs or [])
                if not any("/Scope" in a for a in attrs if isinstance(a, pikepdf.Dictionary)):
                    report.add("th-scope", page_index.get(here, -1) + 1, None, "a TH without /Scope")
            if "/Lang" in node and not _LANG.match(str(node.Lang)):
                report.add("lang", page_index.get(here, -1) + 1, None, f"/Lang {str(node.Lang)!r} on a {role}")
            stack.append((node.get("/K"), here, role))
        for key, n in claimed.items():
            page, mcid = key
            if page < 0 or mcid not in set(on_page.get(page, ())):
                report.add("mcid", page + 1, None, f"the structure claims MCID {mcid}, which the page lacks")
            elif n > 1:
                report.add("mcid", page + 1, None, f"MCID {mcid} is claimed by {n} structure elements")
        for page, mcids in on_page.items():
            for m in mcids:
                if (page, m) not in claimed:
                    report.add("mcid", page + 1, None, f"MCID {m} belongs to no structure element")
        # the parent tree names only reachable elements; link annotations point into it
        parents = {}
        nums = (tree.get("/ParentTree") or {}).get("/Nums") or []
        for k in range(0, len(nums) - 1, 2):
            parents[int(nums[k])] = nums[k + 1]
        for value in parents.values():
            for el in value if isinstance(value, pikepdf.Array) else [value]:
                if isinstance(el, pikepdf.Dictionary) and el.objgen not in reached:
                    report.add(
                        "unreachable",
                        0,
                        None,
                        f"parent tree entry {key} names an element the StructTreeRoot does not reach",
                    )
        for i, page in enumerate(doc.pages):
            for a in page.obj.get("/Annots") or []:
                if str(a.get("/Subtype", "")) != "/Link":
                    continue
                if not str(a.get("/Contents", "")).strip():
                    report.add("link", i + 1, None, "a link annotation without /Contents")
                sp = a.get("/StructParent")
                el = parents.get(int(sp)) if sp is not None else None
                if not isinstance(el, pikepdf.Dictionary) or str(el.get("/S", "")) != "/Link":
                    report.add("link", i + 1, None, "a link annotation that is not in a Link structure element")
