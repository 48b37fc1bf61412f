"""The pipeline, top to bottom: spec → layout → regions → typeset → pdf.

Input: a Document, a dict, or a path to a YAML spec.  Output: a :class:`RenderResult` holding the
PDF bytes (written atomically when ``out`` is given), the page count, warnings and a per-region report.
"""
from __future__ import annotations

import datetime as _dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import layout as _layout
from . import regions as _regions
from ._io import atomic_write
from .errors import Problem, SpecError
from .layout import tree as T
from .regions.base import RegionRequest
from .data.sources import inside
from .spec import load_file, validate
from .spec.inline import plain
from .spec.load import locate
from .spec.models import Document, Generate, text_in

DPI = 200            # pixel density of generated regions on the page
MAX_SIDE = 2048


@dataclass
class RenderResult:
    pdf: bytes
    pages: int
    edition: str
    warnings: list[str] = field(default_factory=list)
    regions: list[dict] = field(default_factory=list)     # per generated region: id, backend, path taken…
    headings: list[tuple[int, str, int]] = field(default_factory=list)
    path: Path | None = None

    def save(self, path: str | Path) -> Path:
        self.path = atomic_write(path, self.pdf)
        return self.path


def load(spec: Document | dict | str | os.PathLike) -> tuple[Document, Path]:
    """Any accepted spec form -> (Document, folder its relative paths are resolved against)."""
    if isinstance(spec, Document):
        return spec, Path.cwd()
    if isinstance(spec, dict):
        return validate(spec), Path.cwd()
    if isinstance(spec, (str, os.PathLike)):
        p = Path(spec)
        return load_file(p), p.resolve().parent
    raise TypeError("spec must be a docgen.Document, a dict, or a path to a YAML file")


def asset_refs(doc: Document) -> list[tuple[str, str]]:
    """(relative path, field path) of every image file the spec names."""
    found = []
    if doc.cover and doc.cover.image:
        found.append((doc.cover.image.path, "cover.image.path"))
    for i, b in enumerate(doc.body):
        if getattr(b, "image", None) is not None:
            found.append((b.image.path, f"body.{i}.image.path"))
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
        except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
            raise SpecError(Problem(where, f"{rel}: not a readable PNG or JPEG image")) from None
        out[rel] = (data, w / h)
    return out


def _generate_blocks(doc: Document) -> dict[str, Generate]:
    g = {}
    if doc.cover and doc.cover.generate:
        g["cover"] = doc.cover.generate
    for i, b in enumerate(doc.body):
        if getattr(b, "generate", None) is not None:
            g[f"body.{i}"] = b.generate
    return g


def _frame_width_mm(theme, template: str, full_bleed: bool, mode: str) -> float:
    pw, _ = theme.page_size_mm()
    if full_bleed:
        return pw
    pt = theme.page_templates.get(template) or next(iter(theme.page_templates.values()))
    w = pw - pt.margins.inner - pt.margins.outer
    cols = 1 if mode == "parallel" else pt.columns      # parallel mode sets one frame, split by language
    return (w - pt.gap * (cols - 1)) / cols


def _round16(x: float) -> int:
    return max(256, min(MAX_SIDE, int(round(x / 16.0)) * 16))


def _requests(doc: Document, tree: T.LayoutTree, theme, edition: str) -> list[RegionRequest]:
    gens = _generate_blocks(doc)
    reqs = []
    template = tree.first_template
    langs = tree.languages
    for b in tree.blocks:
        if isinstance(b, T.PageBreak) and b.template:
            template = b.template
        if not (isinstance(b, T.Figure) and b.region):
            continue
        g = gens.get(b.region)
        if g is None:
            continue
        w_mm = _frame_width_mm(theme, template, b.full_bleed, tree.mode) * b.width
        if g.size:
            px_w, px_h = g.size
        else:
            h_mm = b.height if b.height else w_mm / g.ratio()
            scale = DPI / 25.4
            px_w, px_h = w_mm * scale, h_mm * scale
            k = min(1.0, MAX_SIDE / max(px_w, px_h))
            px_w, px_h = _round16(px_w * k), _round16(px_h * k)
        text = ()
        if g.text is not None:
            text = tuple((lg, text_in(g.text, lg)) for lg in langs if text_in(g.text, lg))
            text = tuple(dict.fromkeys(text))
        reqs.append(RegionRequest(prompt=g.prompt, width=px_w, height=px_h, seed=g.seed, text=text,
                                  negative_prompt=g.negative_prompt, language=doc.primary, region_id=b.region))
    return reqs


def _meta_strings(doc: Document, edition: str, langs) -> dict:
    """Document information as plain strings (inline markers removed): PDF metadata, running heads."""
    def s(v, sep=" · "):
        if v is None:
            return ""
        if isinstance(v, str):
            return plain(v)
        vals = [plain(text_in(v, lg)) for lg in langs if text_in(v, lg)]
        return sep.join(dict.fromkeys(vals))
    return {"title": s(doc.meta.title), "author": s(doc.meta.author), "subject": s(doc.meta.subject),
            "keywords": ", ".join(doc.meta.keywords), "lang": "zh-CN" if langs[0] == "zh" else "en"}


def _document_id(doc: Document) -> str:
    import hashlib
    return "uuid:" + hashlib.sha256(doc.model_dump_json().encode("utf-8")).hexdigest()[:32]


def render(spec: Document | dict | str | os.PathLike, *, out: str | os.PathLike | None = None,
           edition: str | None = None, backend: Any = None, params: dict | None = None,
           model_config: Any = None) -> RenderResult:
    """Render a document to PDF.

    ``edition``: parallel, stacked, zh or en (default: the spec's mode); ``params``: values of the spec's
    declared parameters (strings are converted to the declared type); ``backend``: a region backend
    instance or name (auto, draft, qwen-image); ``model_config``: a
    :class:`docgen.regions.config.ModelConfig` (default: from the environment and config file)."""
    doc, root = load(spec)
    return render_document(doc, root, out=out, edition=edition, backend=backend, params=params,
                           model_config=model_config)


def editions_of(doc: Document) -> list[str]:
    if len(doc.languages) == 1:
        return [doc.languages[0]]
    return [doc.mode, *doc.languages] if doc.mode in ("parallel", "stacked") else list(doc.languages)


def render_document(doc: Document, root: Path, *, out=None, edition: str | None = None,
                    backend: Any = None, params: dict | None = None, model_config: Any = None) -> RenderResult:
    source = doc._source
    try:
        return _render_document(doc, root, out=out, edition=edition, backend=backend, params=params,
                                model_config=model_config)
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
        return [_prepare(doc, root, ed, params)[1] for ed in editions_of(doc)]
    except SpecError as e:
        raise locate(e, source) from None


def _render_document(doc: Document, root: Path, *, out, edition, backend, params, model_config) -> RenderResult:
    from .data import format_value
    from .typeset.document import Picture, Typesetter

    doc, edition, assets, tree, theme, folder = _prepare(doc, root, edition, params)
    warnings: list[str] = []

    # regions
    requests = _requests(doc, tree, theme, edition)
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
                from .regions.verify import overlay_colour
                overlay = " ".join(dict.fromkeys(img.overlay_text.values()))
                rgb, ok = overlay_colour(img.png)
                colour, plate = tuple(c / 255 for c in rgb), not ok
            pictures[req.region_id] = Picture(img.png, req.width / req.height, overlay, colour, plate,
                                              ai_generated=not img.placeholder)
            region_report.append({"id": req.region_id, "backend": img.backend, "width": req.width,
                                  "height": req.height, "seed": req.seed, **img.info})
    langs = tree.languages
    meta = _meta_strings(doc, edition, langs)
    meta_running = dict(meta)
    meta_running["title"] = (plain(text_in(doc.meta.title, langs[0]) or "") or meta["title"]) \
        if edition in ("zh", "en") else meta["title"]
    ts = Typesetter(tree, theme, folder, pictures, meta_running, format_value=format_value)
    res = ts.build(meta)
    warnings += res.warnings
    if theme.name == "poster" and res.pages > 1:
        warnings.append(f"the poster runs to {res.pages} pages; shorten the text or use the report layout")

    from .pdf import finish
    date = None
    env_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if doc.meta.date:
        date = _dt.datetime.combine(doc.meta.date, _dt.time(0, 0), tzinfo=_dt.timezone.utc)
    elif env_epoch and env_epoch.isdigit():
        date = _dt.datetime.fromtimestamp(int(env_epoch), tz=_dt.timezone.utc)
    xmp = None
    if any(not img.placeholder for img in images):
        from .regions.provenance import xmp_packet
        xmp = xmp_packet(images, {"title": meta["title"], "producer": "docgen",
                                  "create_date": (date or _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc)).isoformat(),
                                  "document_id": _document_id(doc), "content_producer": meta["author"] or "docgen"})
    pdf = finish(res.pdf, title=meta["title"], author=meta["author"], subject=meta["subject"],
                 keywords=meta["keywords"], lang=meta["lang"], date=date, xmp=xmp)
    result = RenderResult(pdf=pdf, pages=res.pages, edition=edition, warnings=warnings, regions=region_report,
                          headings=res.headings)
    if out is not None:
        result.save(out)
    return result
