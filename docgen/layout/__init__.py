"""The layout stage: a Document and an edition in, a LayoutTree and its Theme out.

A layout is a folder holding ``template.xml.j2`` (Jinja, run sandboxed with autoescape and
StrictUndefined) and ``theme.yaml``.  Bundled layouts live in the repository's ``layouts/`` folder
(shipped inside the package as ``docgen/layouts``); ``layout:`` may also be a path to a user's folder.
"""
from __future__ import annotations

import contextvars
import copy
import datetime as _dt
import functools
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError, safe_range
from markupsafe import Markup, escape
from pydantic import ValidationError

from ..errors import LayoutError, Problem, SpecError
from ..spec import limits
from ..spec.inline import plain
from ..spec.models import Document, GenerateBlock, text_in, walk
from . import geometry
from .blocks import dump, to_template
from .markup import parse_markup
from .theme import Theme, ThemeOverrides, font_path_problem, is_windows_path, merge
from .tree import DocumentInfo, LayoutTree, PictureRequest

_PKG = Path(__file__).resolve().parent.parent


def layouts_dirs() -> list[Path]:
    """Where bundled layouts are: the source checkout's layouts/ or the installed package copy."""
    dirs = [_PKG.parent / "layouts", _PKG / "layouts"]
    return [d for d in dirs if d.is_dir()]


def shared_dir() -> Path | None:
    for d in layouts_dirs():
        if (d / "_shared").is_dir():
            return d / "_shared"
    return None


@dataclass
class Layout:
    name: str
    path: Path
    description: str


def available() -> list[Layout]:
    out = {}
    for d in layouts_dirs():
        for sub in sorted(d.iterdir()):
            if sub.name.startswith("_") or not (sub / "theme.yaml").is_file() or sub.name in out:
                continue
            out[sub.name] = Layout(sub.name, sub, _read_theme_data(sub).get("description", ""))
    return list(out.values())


def _user_layout_roots() -> list[Path]:
    """Folders named in ``DOCGEN_LAYOUT_PATH`` (``os.pathsep``-separated): shared layouts a spec may use."""
    return [Path(p).expanduser().resolve() for p in os.environ.get("DOCGEN_LAYOUT_PATH", "").split(os.pathsep) if p]


def find(name: str, base_dir: Path | None = None) -> Path:
    """A layout name or folder path -> its folder.  A path must stay inside the spec's folder (or inside a
    folder of ``DOCGEN_LAYOUT_PATH``); a name is looked up in the bundled layouts, those folders and the
    spec's folder."""
    root = (base_dir or Path.cwd()).resolve()
    cand = []
    if "/" in name or "\\" in name or name.startswith((".", "~")):
        p = Path(name).expanduser()
        c = (p if p.is_absolute() else root / p).resolve()
        allowed = [root] + _user_layout_roots()
        if not any(c.is_relative_to(r) for r in allowed):
            raise SpecError(Problem("layout", f"{name!r} is outside the spec's folder (list shared layout folders "
                                              "in DOCGEN_LAYOUT_PATH)"))
        cand.append(c)
    else:
        cand += [d / name for d in layouts_dirs()] + [d / name for d in _user_layout_roots()] + [root / name]
    for c in cand:
        if (c / "theme.yaml").is_file() and (c / "template.xml.j2").is_file():
            return c.resolve()
    names = ", ".join(lay.name for lay in available())
    raise SpecError(Problem("layout", f"no layout {name!r} (installed: {names}; or give a folder path "
                                      "holding template.xml.j2 and theme.yaml)"))


_THEME_DATA: dict = {}     # theme.yaml path -> ((mtime_ns, size), parsed data): parsed once per process


def _read_theme_data(folder: Path) -> dict:
    from .themecache import parsed
    path = folder / "theme.yaml"
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        hit = _THEME_DATA.get(path)
        if hit is None or hit[0] != stamp:
            data = parsed(path.read_text(encoding="utf-8"), str(path))     # across processes: layout/themecache.py
            if len(_THEME_DATA) > 64:
                _THEME_DATA.clear()
            hit = _THEME_DATA[path] = (stamp, data or {})
    except SpecError as e:
        raise LayoutError(str(e)) from None
    return copy.deepcopy(hit[1])               # callers merge into it: the cached copy stays as read


_FONTS_DIR = _PKG / "fonts"
_FONT_MAGIC = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"ttcf")     # sfnt versions: TrueType, CFF, Apple, collection
_FONT_KEYS = ("regular", "bold", "italic", "bold_italic")


def _vet_fonts(fonts, base: Path, where: str, problems: list) -> None:
    """Font files a theme names, made absolute and kept inside their root: a bundled font's name, a path
    inside ``base`` (the layout's folder for theme.yaml, the spec's folder for a spec's overrides), or a
    file in a system font folder (``spec.theme.system_font_dirs``; a Windows path is checked as Windows
    reads it).  Anything else is refused before it is opened, so a spec cannot probe or embed arbitrary
    files.  A ``roles`` entry in a system font folder may be absent from this machine: the typesetter
    skips it and warns."""
    def walk(v, path):
        if isinstance(v, dict):
            for k, x in v.items():
                if k in _FONT_KEYS and isinstance(x, str):
                    v[k] = _vet_one(x, path + (k,), optional=path[:1] == ("roles",))
                else:
                    walk(x, path + (str(k),))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                if isinstance(x, str) and path[:1] == ("roles",):      # a role's entry: a file name alone
                    v[i] = _vet_one(x, path + (str(i),), optional=True)
                else:
                    walk(x, path + (str(i),))

    def _vet_one(name: str, path, optional: bool = False) -> str:
        at = ".".join((where,) + path)
        if os.name == "nt":
            name = os.path.expandvars(name)                     # %LOCALAPPDATA%\Microsoft\Windows\Fonts\…
        p = Path(name).expanduser()
        if not p.is_absolute() and len(p.parts) == 1 and (_FONTS_DIR / p).is_file():
            return name                                         # a bundled font
        if is_windows_path(name) or p.is_absolute():
            why = font_path_problem(name)
            if why is not None:
                problems.append(Problem(at, f"{name!r}: {why}"))
                return name
            if is_windows_path(name) and os.name != "nt":
                if not optional:
                    problems.append(Problem(at, f"font file not found: {name} (a Windows path, read on "
                                                f"{os.name == 'posix' and 'a POSIX system' or os.name})"))
                return name
            cand = p.resolve()
        else:
            cand = (base / p).resolve()
            if not cand.is_relative_to(base.resolve()):
                problems.append(Problem(at, f"{name!r}: font paths are relative to {base} and must stay inside it"))
                return name
            optional = False                                    # part of the project: a typo, not another system
        if not cand.is_file():
            if not (optional and not cand.exists()):
                problems.append(Problem(at, f"font file not found: {name}"))
            return name
        try:
            with open(cand, "rb") as f:
                magic = f.read(4)
        except OSError as e:
            problems.append(Problem(at, f"cannot read {name}: {e.strerror}"))
            return name
        if magic not in _FONT_MAGIC:
            problems.append(Problem(at, f"{name} is not a TrueType/OpenType font file"))
            return name
        return str(cand)

    walk(fonts, ())


def load_theme(folder: Path, overrides: ThemeOverrides | dict, spec_root: Path | None = None) -> Theme:
    """The layout's theme.yaml (its mistakes: LayoutError with file:line and field path) merged with a
    spec's overrides (its mistakes: SpecError, paths under ``theme.``), validated as one Theme."""
    from ..spec.load import line_of, parse_yaml, problems_from
    path = folder / "theme.yaml"
    base = _read_theme_data(folder)
    if not isinstance(base, dict):
        raise LayoutError(str(Problem("", "a theme is a mapping (paper:, fonts:, styles: …)", str(path), 1)))
    problems: list[Problem] = []
    try:
        Theme.model_validate(base)
    except ValidationError as e:
        problems = problems_from(e)
    else:
        _vet_fonts(base.get("fonts"), folder, "fonts", problems)
    if problems:
        # the layout author's mistake: re-read for the line map (only on this error path) to name file:line
        _, pos = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        located = []
        for p in problems:
            where, msg = p.path, p.message
            head, _, rest = msg.partition(": ")
            if not where and tuple(head.split(".")) in pos:      # a whole-theme check names its field first
                where, msg = head, rest
            located.append(Problem(where, msg, str(path), line_of(pos, tuple(where.split(".")) if where else ())))
        raise LayoutError("\n".join(map(str, located)))
    try:
        overrides = ThemeOverrides.model_validate(overrides)      # a no-op for a loaded Document's theme
    except ValidationError as e:
        raise SpecError([Problem(".".join(("theme", p.path) if p.path else ("theme",)), p.message)
                         for p in problems_from(e)]) from None
    # only what the spec gives is merged: an unset field overrides nothing
    over = overrides.model_dump(exclude_unset=True)
    if isinstance(over.get("fonts"), dict):
        _vet_fonts(over["fonts"], spec_root or Path.cwd(), "theme.fonts", problems)
        if problems:
            raise SpecError(problems)
    try:
        return Theme.model_validate(merge(base, over))
    except ValidationError as e:
        probs = problems_from(e)
        raise SpecError([Problem("theme." + p.path if p.path else "theme", p.message) for p in probs]) from None


def edition_languages(doc: Document, edition: str) -> tuple[str, ...]:
    if edition in ("zh", "en"):
        return (edition,)
    return tuple(doc.languages)


class _ConfinedLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader whose templates, symlinks followed, stay inside the folder they are found in:
    ``{% include %}`` of a link to a host file is refused, not read into the PDF."""

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        real = Path(filename).resolve()
        if not any(real.is_relative_to(Path(d).resolve()) for d in self.searchpath):
            raise SecurityError(f"template {template!r} resolves to {real}, outside the layout's folder")
        return source, filename, uptodate


class _Budget:
    """What one template run may still spend: range() items and time (a context variable: the
    environment is shared by threads)."""

    def __init__(self):
        self.loops = limits.TEMPLATE_LOOPS
        self.deadline = time.monotonic() + limits.TEMPLATE_SECONDS

    def spend(self, n: int = 1) -> None:
        self.loops -= n
        if self.loops < 0:
            raise SecurityError(f"the template's loops ran over {limits.TEMPLATE_LOOPS:,} iterations in all")
        if time.monotonic() > self.deadline:
            raise SecurityError(f"the template ran longer than {limits.TEMPLATE_SECONDS:g} s")


_BUDGET: contextvars.ContextVar[_Budget] = contextvars.ContextVar("docgen_template_budget")


def _counted_range(*args):
    budget = _BUDGET.get(None)
    for n, i in enumerate(safe_range(*args)):
        if budget is not None and not n % 256:
            budget.spend(256)
        yield i


class _LayoutEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with the arithmetic that can make huge values checked: ``'a' * 10**8``, ``9**9**9``."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > limits.TEMPLATE_CHARS:
                    raise SecurityError(f"a value of {len(seq) * n:,} items is over the limit of "
                                        f"{limits.TEMPLATE_CHARS:,}")
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and \
                right * abs(left).bit_length() > 4096:
            raise SecurityError(f"{left} ** {right} is too large a number")
        return super().call_binop(context, operator, left, right)


@functools.lru_cache(maxsize=32)
def _environment(folder: Path) -> ImmutableSandboxedEnvironment:
    """One sandboxed environment per layout folder and process: templates compile once (Jinja reloads a
    template whose file changed), and once across processes (their code kept in docgen's cache folder:
    :mod:`docgen.layout.bytecode`)."""
    from .bytecode import for_environment

    paths = [str(folder)]
    sh = shared_dir()
    if sh is not None:
        paths.append(str(sh))
    env = _LayoutEnvironment(
        loader=_ConfinedLoader(paths), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    env.globals["range"] = _counted_range
    env.bytecode_cache = for_environment(env)
    return env


def _run_template(tpl, context: dict) -> str:
    """The template's output, within limits.TEMPLATE_CHARS, TEMPLATE_LOOPS and TEMPLATE_SECONDS."""
    budget = _Budget()
    token = _BUDGET.set(budget)
    try:
        out, size = [], 0
        for chunk in tpl.generate(**context):
            size += len(chunk)
            if size > limits.TEMPLATE_CHARS:
                raise SecurityError(f"the template produced more than {limits.TEMPLATE_CHARS:,} characters")
            out.append(chunk)
            if len(out) % 1024 == 0:
                budget.spend(0)
        return "".join(out)
    finally:
        _BUDGET.reset(token)


def _context(doc: Document, edition: str, theme: Theme, data=None, index: dict | None = None) -> dict:
    """The template's variables.  ``index`` (if given) receives every block's mapping by id."""
    langs = edition_languages(doc, edition)
    index = {} if index is None else index

    def t(text) -> Markup:
        """Localized text -> <t lang=…> elements for this edition (escaped: user text is data)."""
        if text is None:
            return Markup("")
        if isinstance(text, str):
            return Markup('<t lang="*">%s</t>' % escape(text))
        parts = []
        for lang in langs:
            v = text.get(lang) if isinstance(text, dict) else None
            if v is not None:
                parts.append('<t lang="%s">%s</t>' % (escape(lang), escape(v)))
        return Markup("".join(parts))

    def cells(row) -> Markup:
        """A table row's cells as <cell> elements (what a loop of <cell>{{ t(c) }}</cell> writes, in one call)."""
        return Markup("".join("<cell>%s</cell>" % t(c) for c in row))

    def pick(text, lang=None) -> str:
        """The text in one language (the edition's primary by default), for attributes and headers."""
        if text is None:
            return ""
        if isinstance(text, str):
            return text
        for lg in ([lang] if lang else []) + list(langs):
            if text.get(lg) is not None:
                return text[lg]
        return ""

    def blocks_of(blocks, path: str) -> list[dict]:
        out = [to_template(b, f"{path}.{i}", data) for i, b in enumerate(blocks)]
        index.update((m["id"], m) for m in out)
        return out

    cover = None
    if doc.cover is not None:
        cover = {"subtitle": dump(doc.cover.subtitle),
                 "region": COVER if doc.cover.generate else None,
                 "image": dump(doc.cover.image) if doc.cover.image else None}
    meta = dump(doc.meta)
    gongwen = None
    if getattr(doc, "gongwen", None) is not None:
        # the official-document fields; each attachment's body converted as the body is, with its own ids
        gongwen = dump(doc.gongwen)
        for i, (fj, d) in enumerate(zip(doc.gongwen.fujian, gongwen["fujian"])):
            d["blocks"] = blocks_of(fj.body, f"gongwen.fujian.{i}.body")
    return {
        "meta": meta, "cover": cover, "blocks": blocks_of(doc.body, "body"), "languages": list(langs),
        "edition": edition, "mode": edition,
        "t": t, "cells": cells, "pick": pick, "theme": {"name": theme.name, "toc_depth": theme.toc_depth},
        "gongwen": gongwen,
        # the data stage's results: typed parameters and each source's rows (data, never markup: autoescaped)
        "params": dict(data.params) if data is not None else {},
        "data": {k: [dict(r) for r in ds.rows] for k, ds in data.datasets.items()} if data is not None else {},
    }


COVER = "cover"                  # the region id of cover.generate (templates write <region ref="cover">)


def picture_requests(doc: Document, langs: tuple[str, ...]) -> dict[str, PictureRequest]:
    """Every picture the spec asks to be generated, by region id: the cover's and each generate block's."""
    gens = []
    if doc.cover is not None and doc.cover.generate is not None:
        gens.append((COVER, doc.cover.generate))
    gens += [(bid, b.generate) for bid, b in walk(doc) if isinstance(b, GenerateBlock)]
    out = {}
    for rid, g in gens:
        text: tuple = ()
        if g.text is not None:
            text = tuple(dict.fromkeys((lg, text_in(g.text, lg)) for lg in langs if text_in(g.text, lg)))
        out[rid] = PictureRequest(prompt=g.prompt, seed=g.seed, negative_prompt=g.negative_prompt, text=text,
                                  aspect=g.ratio(), size=tuple(g.size) if g.size else None, language=doc.primary)
    return out


def _info(doc: Document, edition: str, langs: tuple[str, ...]) -> DocumentInfo:
    """Document information as plain strings (inline markers removed): PDF metadata, running heads."""
    def s(v, sep=" · "):
        if v is None:
            return ""
        if isinstance(v, str):
            return plain(v)
        vals = [plain(text_in(v, lg)) for lg in langs if text_in(v, lg)]
        return sep.join(dict.fromkeys(vals))
    title = s(doc.meta.title)
    running = (plain(text_in(doc.meta.title, langs[0]) or "") or title) if edition in ("zh", "en") else title
    date = None
    env_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if doc.meta.date:
        date = _dt.datetime.combine(doc.meta.date, _dt.time(0, 0), tzinfo=_dt.timezone.utc)
    elif env_epoch and env_epoch.isdigit():
        date = _dt.datetime.fromtimestamp(int(env_epoch), tz=_dt.timezone.utc)
    doc_id = "uuid:" + hashlib.sha256(doc.model_dump_json().encode("utf-8")).hexdigest()[:32]
    return DocumentInfo(title=title, author=s(doc.meta.author), subject=s(doc.meta.subject),
                        keywords=", ".join(doc.meta.keywords), lang="zh-CN" if langs[0] == "zh" else "en",
                        running_title=running, date=date, document_id=doc_id)


def build(doc: Document, edition: str, base_dir: Path | None = None, *,
          data=None) -> tuple[LayoutTree, Theme, Path]:
    """``data``: the data stage's :class:`docgen.data.Resolved` (params, sources, chart series).

    The tree carries everything later stages need: each Figure's picture request and the width of the
    frame it fills, the edition's languages and mode, and the document's information strings."""
    folder = find(doc.layout, base_dir)
    theme = load_theme(folder, doc.theme, base_dir)
    if theme.editions is not None and edition not in theme.editions:
        raise SpecError(Problem("bilingual", f"layout {theme.name or doc.layout!r} does not typeset the {edition} "
                                             f"edition (its theme.yaml lists editions: {', '.join(theme.editions)})"))
    env = _environment(folder)
    langs = edition_languages(doc, edition)
    index: dict[str, dict] = {}
    try:
        tpl = env.get_template("template.xml.j2")
        markup = _run_template(tpl, _context(doc, edition, theme, data, index))
    except jinja2.TemplateNotFound as e:
        raise LayoutError(f"{folder / 'template.xml.j2'}: no template {e.name!r} in the layout's folder "
                          "(or the shared templates)") from None
    except RecursionError:
        raise LayoutError(f"{folder / 'template.xml.j2'}: the template recurses too deeply "
                          "(a macro that calls itself?)") from None
    except OverflowError as e:               # range() over the sandbox's MAX_RANGE
        raise LayoutError(f"{folder / 'template.xml.j2'}: {e}") from None
    except jinja2.TemplateSyntaxError as e:
        raise LayoutError(f"{e.filename or folder}:{e.lineno}: template syntax error: {e.message}") from None
    except jinja2.UndefinedError as e:
        raise LayoutError(f"{folder / 'template.xml.j2'}: {e.message}") from None
    except jinja2.exceptions.SecurityError as e:
        raise LayoutError(f"{folder / 'template.xml.j2'}: not allowed in a layout template: {e}") from None
    tree = parse_markup(markup, source=str(folder / "template.xml.j2"), pictures=picture_requests(doc, langs),
                        blocks=index)
    tree.languages = langs
    tree.mode = edition
    tree.info = _info(doc, edition, langs)
    for fig, template in tree.figures():
        fig.frame_width = geometry.frame_width(theme, template, tree.mode, fig.full_bleed)
    return tree, theme, folder


__all__ = ["Layout", "Theme", "available", "build", "find", "load_theme", "text_in"]
