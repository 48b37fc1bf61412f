"""The structure tree: plain structure records and the file's page and annotation references in, the PDF
objects of a tagged document out (``/StructTreeRoot``, its elements, the ``/ParentTree``).

A record is what typeset/structure.py hands over: a dict with ``role``, optional ``lang``, ``alt``,
``scope``, ``contents``, ``numbering`` and ``kids`` — ``("el", index)``, ``("mc", page, mcid)`` or
``("annot", page, index among the page's /Annots)``; record 0 is the Document.  This module knows nothing
of typesetting: it only numbers objects and writes them.

The elements are serialised directly as bytes (a 50-page report has ~1 500 of them; building pypdf
objects for each would cost more than the rest of finishing).  The parent tree has one entry per page
(its key is the page's ``/StructParents``: the MCID-indexed array of elements) and one per link annotation
(its ``/StructParent``), in one flat ``/Nums`` array.
"""

from __future__ import annotations

import functools
import io
from typing import Callable, Sequence

from pypdf.generic import create_string_object


class RawObject:
    """An object already serialised: written as it is by the incremental update."""

    __slots__ = ("data",)

    def __init__(self, data: bytes):
        self.data = data

    def write_to_stream(self, stream, encryption_key=None) -> None:
        stream.write(self.data)


@functools.lru_cache(maxsize=256)
def _string(text: str) -> bytes:
    """A PDF string: ASCII as a literal, anything else as pypdf encodes it (UTF-16BE)."""
    if text.isascii() and text.isprintable():
        return b"(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode() + b")"
    out = io.BytesIO()
    create_string_object(text).write_to_stream(out)
    return out.getvalue()


def _same_lang(a: str, b: str) -> bool:
    return a.split("-")[0].lower() == b.split("-")[0].lower()


def build(
    records: Sequence[dict],
    page_refs: Sequence[tuple[int, int]],
    annots: Callable[[int], Sequence[tuple[int, int]]],
    doc_lang: str,
    new_number: Callable[[], int],
):
    """The objects of the structure tree.

    ``page_refs``: (number, generation) of each page; ``annots(page)``: those of the page's annotations;
    ``new_number()``: a fresh object number.  Returns (root number, {number: RawObject}, {page index:
    StructParents}, {annotation (number, gen): (StructParent, contents, element)})."""
    objects: dict[int, RawObject] = {}
    root = new_number()
    nums = [new_number() for _ in records]
    parent_tree = new_number()
    page_elems: dict[int, dict[int, int]] = {}  # page -> mcid -> element index
    annot_keys: dict[tuple[int, int], tuple[int, str, int]] = {}  # annotation -> (key, contents, element)
    next_key = len(page_refs)
    parent_of: dict[int, int | None] = {0: None}
    for i, rec in enumerate(records):
        for k in rec["kids"]:
            if k[0] == "el":
                parent_of[k[1]] = i

    def ref(n: int, gen: int = 0) -> bytes:
        return b"%d %d R" % (n, gen)

    refs = [ref(n) for n in nums]
    page_ref = [ref(*p) for p in page_refs]
    root_ref = ref(root)

    for i, rec in enumerate(records):
        pg = None
        kids = []
        for k in rec["kids"]:
            if k[0] == "el":
                kids.append(refs[k[1]])
            elif k[0] == "mc":
                _, page, mcid = k
                page_elems.setdefault(page, {})[mcid] = i
                if pg is None:
                    pg = page
                kids.append(b"%d" % mcid if page == pg else b"<</Type/MCR/Pg %s/MCID %d>>" % (page_ref[page], mcid))
            else:
                _, page, index = k
                page_annots = annots(page)
                if index >= len(page_annots):
                    continue
                a = page_annots[index]
                annot_keys[a] = next_key, rec.get("contents", ""), i
                next_key += 1
                kids.append(b"<</Type/OBJR/Obj %s/Pg %s>>" % (ref(*a), page_ref[page]))
        parent = parent_of.get(i)
        d = [
            b"<</S/",
            rec["role"].encode("ascii"),  # /Type /StructElem is optional
            b"/P ",
            root_ref if parent is None else refs[parent],
        ]
        if pg is not None:
            d += [b"/Pg ", page_ref[pg]]
        lang = rec.get("lang")
        if lang and not _same_lang(lang, doc_lang):
            d += [b"/Lang", _string(lang)]
        if rec.get("alt"):
            d += [b"/Alt", _string(rec["alt"])]
        if rec.get("contents") and rec["role"] == "Link":
            d += [b"/Alt", _string(rec["contents"])]
        if rec.get("scope"):
            d += [b"/A<</O/Table/Scope/", rec["scope"].encode("ascii"), b">>"]
        if rec.get("numbering"):
            d += [b"/A<</O/List/ListNumbering/", rec["numbering"].encode("ascii"), b">>"]
        # one kid is written bare: the same to a reader, and pdfua 0.1.3's heading rule fails on an array
        d += [b"/K ", kids[0], b">>"] if len(kids) == 1 else [b"/K[", b" ".join(kids), b"]>>"]
        objects[nums[i]] = RawObject(b"".join(d))

    entries = []
    for page in sorted(page_elems):
        by_mcid = page_elems[page]
        arr = b" ".join(refs[by_mcid[m]] if m in by_mcid else b"null" for m in range(max(by_mcid) + 1))
        entries.append(b"%d [%s]" % (page, arr))
    for key, _, el in sorted(annot_keys.values()):
        entries.append(b"%d %s" % (key, refs[el]))
    objects[parent_tree] = RawObject(b"<</Nums[" + b" ".join(entries) + b"]>>")
    objects[root] = RawObject(
        b"<</Type/StructTreeRoot/K[%s]/ParentTree %s/ParentTreeNextKey %d>>" % (refs[0], ref(parent_tree), next_key)
    )
    return root, objects, {p: p for p in page_elems}, annot_keys
