"""The pipeline, top to bottom: spec → layout → regions → typeset → pdf.

Input: a Document, a dict, or a path to a YAML spec.  Output: a :class:`RenderResult` holding the
PDF bytes (written atomically when ``out`` is given), the page count, warnings and a per-region report.
"""
from __future__ import annotations

import functools
import io
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import layout as _layout
from . import regions as _regions
from ._io import atomic_write
from .errors import Problem, SpecError
from .data.sources import inside
from .spec import load_file, validate
from .spec.limits import Limits
from .spec.load import check_translations, locate
from .spec.models import Document, ImageBlock, walk


@dataclass(repr=False)
class RenderResult:
    """What :func:`render` returns: the finished PDF and what happened on the way.

    ``pdf``: the PDF bytes; ``pages``: page count; ``edition``: parallel, stacked, zh or en; ``warnings``:
    what the user should know (a character no font covers, placeholder pictures…); ``regions``: one dict
    per generated region (id, backend, size, seed, path taken, OCR readings); ``headings``: (level, text,
    page) of every heading; ``path``: where the PDF was written, if it was."""

    pdf: bytes
    pages: int
    edition: str
    warnings: list[str] = field(default_factory=list)
    regions: list[dict] = field(default_factory=list)     # per generated region: id, backend, path taken…
    headings: list[tuple[int, str, int]] = field(default_factory=list)
    path: Path | None = None

    def save(self, path: str | Path) -> Path:
        """Write the PDF to ``path`` atomically (a reader never sees a partial file); returns the path."""
        self.path = atomic_write(path, self.pdf)
        return self.path

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path else ""
        return (f"RenderResult(edition={self.edition!r}, pages={self.pages}, bytes={len(self.pdf)}, "
                f"warnings={len(self.warnings)}, regions={len(self.regions)}{where})")


def load(spec: Document | dict | str | os.PathLike, base_dir: str | os.PathLike | None = None) -> tuple[Document, Path]:
    """Any accepted spec form -> (Document, folder its relative paths are resolved against).

    ``base_dir``: that folder for a dict or a Document (default: the working directory); a YAML file's
    paths are relative to its own folder.  A Document built in Python is checked as a YAML spec is."""
    if isinstance(spec, Document):
        check_translations(spec)
        return spec, _base(base_dir)
    if isinstance(spec, dict):
        return validate(spec), _base(base_dir)
    if isinstance(spec, (str, os.PathLike)):
        p = Path(spec)
        return load_file(p), p.resolve().parent
    raise TypeError("spec must be a docgen.Document, a dict, or a path to a YAML file")


def _base(base_dir) -> Path:
    if base_dir is None:
        return Path.cwd()
    p = Path(base_dir).resolve()
    if not p.is_dir():
        raise SpecError(Problem("base_dir", f"{base_dir}: not a folder"))
    return p


def asset_refs(doc: Document) -> list[tuple[str, str]]:
    """(relative path, field path) of every image file the spec names (cover, body, attachments)."""
    found = []
    if doc.cover and doc.cover.image:
        found.append((doc.cover.image.path, "cover.image.path"))
    found += [(b.image.path, f"{bid}.image.path") for bid, b in walk(doc) if isinstance(b, ImageBlock)]
    return found


def _assets(doc: Document, root: Path) -> dict[str, tuple[bytes, float]]:
    """Image files the spec names: checked (inside the root, readable image) and read."""
    from PIL import Image, UnidentifiedImageError
    out = {}
    for rel, where in asset_refs(doc):
        p = inside(root, rel, where, "assets")
        data = p.read_bytes()
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.verify()
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
                if im.format not in ("PNG", "JPEG"):
                    raise SpecError(Problem(where, f"{rel}: {im.format} images are not supported (PNG or JPEG)"))
                im.load()                # a truncated file passes verify() (JPEG is not verified at all)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            # ValueError: e.g. a PNG text chunk over PIL's MAX_TEXT_CHUNK
            raise SpecError(Problem(where, f"{rel}: not a readable PNG or JPEG image")) from None
        out[rel] = (data, w / h)
    return out


def render(spec: Document | dict | str | os.PathLike, *, out: str | os.PathLike | None = None,
           edition: str | None = None, backend: Any = None, params: dict | None = None,
           model_config: Any = None, base_dir: str | os.PathLike | None = None,
           limits: Limits | None = None, pdfa: bool = False, pdfua: bool = False,
           tagged: bool | None = None) -> RenderResult:
    """Render a document to PDF.

    ``edition``: parallel, stacked, zh or en (default: the spec's mode); ``params``: values of the spec's
    declared parameters (strings are converted to the declared type); ``backend``: a region backend
    instance or name (auto, draft, qwen-image); ``model_config``: a
    :class:`docgen.regions.config.ModelConfig` (default: from the environment and config file);
    ``base_dir``: the folder a dict's or Document's relative paths (images, data, layout) are resolved
    against (default: the working directory); ``limits``: a :class:`docgen.Limits` — with ``seconds`` or
    ``memory`` the render runs in a child process stopped when it takes longer or more memory; ``pages``
    caps the pages of the edition (default 10,000); each a :class:`RenderError`;
    ``pdfa``: an archival PDF/A-2b file; ``pdfua``: a tagged PDF that claims PDF/UA-1 (a picture without
    ``alt:`` is an error); ``tagged``: a tagged PDF (structure tree, marked content) without the claim —
    default: only with ``pdfua`` (tagging costs ~10–15 % of a warm build, over the 10 % budget)."""
    if limits is not None and (limits.seconds or limits.memory):
        from ._isolate import run_isolated
        if isinstance(spec, Document):         # its generated theme classes do not pickle: send the data
            spec = spec.model_dump(exclude_unset=True)
        in_child = functools.partial(render, limits=Limits(pages=limits.pages))     # the page limit, there
        result = run_isolated(in_child, limits, spec, edition=edition, backend=backend, params=params,
                              model_config=model_config, base_dir=base_dir, pdfa=pdfa,
                              pdfua=pdfua, tagged=tagged)
        if out is not None:
            result.save(out)
        return result
    doc, root = load(spec, base_dir)
    return render_document(doc, root, out=out, edition=edition, backend=backend, params=params,
                           model_config=model_config, pdfa=pdfa, pdfua=pdfua, tagged=tagged,
                           max_pages=limits.max_pages if limits is not None else None)


def editions_of(doc: Document, root: Path | None = None) -> list[str]:
    """Every edition of ``doc`` (``--edition all``): its bilingual mode and each language; given the spec's
    folder ``root``, only those its layout typesets (the theme's ``editions:``) — unless that leaves none,
    when rendering them gives the layout's refusal."""
    editions: list[str]
    if len(doc.languages) == 1:
        editions = [doc.languages[0]]
    else:
        editions = [doc.mode, *doc.languages] if doc.mode in ("parallel", "stacked") else list(doc.languages)
    if root is None:
        return editions
    try:
        declared = _layout.load_theme(_layout.find(doc.layout, root), doc.theme, root).editions
    except SpecError as e:                 # a theme: override of the spec's, with its file:line
        raise locate(e, doc._source) from None
    return [e for e in editions if declared is None or e in declared] or editions


def render_document(doc: Document, root: Path, *, out=None, edition: str | None = None,
                    backend: Any = None, params: dict | None = None, model_config: Any = None,
                    pdfa: bool = False, pdfua: bool = False, tagged: bool | None = None,
                    max_pages: int | None = None) -> RenderResult:
    source = doc._source
    pdfa, pdfua = pdfa or doc.pdf.pdfa, pdfua or doc.pdf.pdfua       # the spec's pdf: setting, or the caller's
    if tagged is None:
        tagged = pdfua or doc.pdf.tagged
    if pdfua and not tagged:
        raise ValueError("a PDF/UA file is a tagged PDF: pdfua=True needs tagged=True")
    try:
        if pdfua:
            missing = [f"{bid}.image.alt" for bid, b in walk(doc) if isinstance(b, ImageBlock) and not b.image.alt]
            if missing:
                raise SpecError([Problem(m, "PDF/UA needs an alternate description of the picture: give alt:")
                                  for m in missing])
        return _render_document(doc, root, out=out, edition=edition, backend=backend, params=params,
                                model_config=model_config, pdfa=pdfa, pdfua=pdfua, tagged=tagged,
                                max_pages=max_pages)
    except SpecError as e:
        raise locate(e, source) from None


def _prepare(doc: Document, root: Path, edition: str | None, params):
    """Everything up to the regions: data resolved, assets read, layout built (all input checks)."""
    from .data import resolve

    # data: parameters typed, sources loaded, placeholders filled, data-bound blocks made plain
    resolved = resolve(doc, root, params)
    doc = resolved.document
    edition = edition or doc.mode
    if edition not in editions_of(doc) and not (edition in ("parallel", "stacked") and len(doc.languages) == 2):
        raise SpecError(Problem("bilingual", f"edition {edition!r} is not available for languages {doc.languages}"))
    assets = _assets(doc, root)
    tree, theme, folder = _layout.build(doc, edition, root, data=resolved)
    return doc, edition, assets, tree, theme, folder


def check_document(doc: Document, root: Path, *, params: dict | None = None) -> list[str]:
    """Check a spec as far as can be done without generating or typesetting: data sources, parameters,
    assets, the layout, its template and theme, for every edition.  Returns the editions checked."""
    source = doc._source
    try:
        return [_prepare(doc, root, ed, params)[1] for ed in editions_of(doc, root)]
    except SpecError as e:
        raise locate(e, source) from None


_READY = threading.Lock()


def _reportlab_ready() -> None:
    """ReportLab fills its table of named colours at the first lookup, unlocked: a thread drawing a table
    (whose cells' default colour is ``'black'``) while another fills it finds the name missing.  Filled
    here, once, under a lock, before any typesetting."""
    from reportlab.lib.colors import getAllNamedColors

    with _READY:
        getAllNamedColors()


def _render_document(doc: Document, root: Path, *, out, edition, backend, params, model_config,
                     pdfa=False, pdfua=False, tagged=True, max_pages=None) -> RenderResult:
    from .data import format_value
    from .regions.requests import requests_for
    from .typeset.document import Picture, Typesetter

    _reportlab_ready()

    # spec → data → layout: after this the layout tree carries everything; the spec is not read again
    doc, edition, assets, tree, theme, folder = _prepare(doc, root, edition, params)
    del doc
    warnings: list[str] = []

    # regions
    requests = requests_for(tree)
    pictures: dict[str, Picture] = {rel: Picture(data, aspect) for rel, (data, aspect) in assets.items()}
    region_report = []
    images = []
    if requests:
        if backend is None or isinstance(backend, str):
            backend, why = _regions.get_backend(backend, model_config)
            if why:
                warnings.append(f"generated regions use the draft backend (placeholders): {why}")
        images = _regions.generate_regions(requests, backend, model_config)
        for req, img in zip(requests, images):
            overlay, colour, plate = "", (1.0, 1.0, 1.0), False
            if img.overlay_text:
                from .typeset.ink import overlay_colour
                overlay = " ".join(dict.fromkeys(img.overlay_text.values()))
                rgb, ok = overlay_colour(img.png)
                colour, plate = tuple(c / 255 for c in rgb), not ok
            pictures[req.region_id] = Picture(img.png, req.width / req.height, overlay, colour, plate,
                                              ai_generated=not img.placeholder)
            region_report.append({"id": req.region_id, "backend": img.backend, "width": req.width,
                                  "height": req.height, "seed": req.seed, **img.info})

    # typeset
    info = tree.info
    ts = Typesetter(tree, theme, folder, pictures, {"title": info.running_title}, format_value=format_value,
                    tagged=tagged)
    if max_pages is not None:
        ts.max_pages = max_pages
    res = ts.build({"title": info.title, "author": info.author, "subject": info.subject, "keywords": info.keywords})
    warnings += res.warnings
    if theme.name == "poster" and res.pages > 1:
        warnings.append(f"the poster runs to {res.pages} pages; shorten the text or use the report layout")

    # pdf
    from .pdf import finish
    records = []
    if any(not img.placeholder for img in images):
        from .regions.provenance import provenance_records
        records = provenance_records(images)
    pdf = finish(res.pdf, title=info.title, author=info.author, subject=info.subject,
                 keywords=info.keywords, lang=info.lang, date=info.date, structure=res.structure,
                 regions=records, xmp_meta={"document_id": info.document_id,
                                            "content_producer": info.author or "docgen"},
                 pdfa=pdfa, pdfua=pdfua)
    result = RenderResult(pdf=pdf, pages=res.pages, edition=edition, warnings=warnings, regions=region_report,
                          headings=res.headings)
    if out is not None:
        result.save(out)
    return result


