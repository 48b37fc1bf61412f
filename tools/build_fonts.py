#!/usr/bin/env python3
"""Build the fonts bundled in ``docgen/fonts/`` from Debian font packages.

ReportLab can only embed fonts with TrueType (``glyf``) outlines, while most
CJK fonts ship CFF (PostScript) outlines.  This script subsets each source font
to the characters docgen needs, converts CFF outlines to quadratic TrueType
outlines (cubic -> quadratic with fontTools.cu2qu), drops hinting and the
OpenType layout tables ReportLab never reads, renames the fonts to mark them as
modified versions, and writes ``fonts.json``, ``README.md`` and ``LICENSES/``.

Obtaining the sources (Debian 12 "bookworm" package names)
----------------------------------------------------------
    apt-get install fonts-noto-cjk fonts-noto-cjk-extra fonts-noto-core \\
                    fonts-noto-mono fonts-lxgw-wenkai
    # FandolFang is only in texlive-lang-chinese, whose dependencies are
    # heavy: download and unpack it, do not install it.
    mkdir -p /tmp/fontsrc && cd /tmp/fontsrc
    apt-get download texlive-lang-chinese
    dpkg -x texlive-lang-chinese_*.deb texlive

    pip install fonttools            # any fontTools >= 4.40
    python3 tools/build_fonts.py --texlive-root /tmp/fontsrc/texlive
    python3 tools/build_fonts.py --verify-only   # needs reportlab and pypdf

The list of the 8,105 characters of the 通用规范汉字表 (2013) is docgen/fonts/tgh2013.txt, derived
from the Unicode Unihan database's kTGH field; Debian's unicode-data package ships it
(/usr/share/unicode/Unihan_OtherMappings.txt.bz2).  Regenerate it with

    apt-get install unicode-data
    python3 tools/build_fonts.py --write-tgh /usr/share/unicode/Unihan_OtherMappings.txt.bz2

What comes from where:
  fonts-noto-cjk        NotoSerifCJK-{Regular,Bold}.ttc, NotoSansCJK-{Regular,Bold}.ttc
  fonts-noto-cjk-extra  NotoSerifCJK-Black.ttc
  fonts-noto-core       NotoSerif-*.ttf, NotoSans-*.ttf
  fonts-noto-mono       NotoSansMono-Regular.ttf (not in fonts-noto-core on Debian)
  fonts-lxgw-wenkai     LXGWWenKai-Regular.ttf (already TrueType: subset only)
  texlive-lang-chinese  FandolFang-Regular.otf (+ its README and COPYING)

The Noto CJK collections hold one face per region; the Simplified Chinese face
is picked by its family name ("Noto Serif CJK SC" / "Noto Sans CJK SC") in the
``name`` table, never by a fixed index.

Output is deterministic: timestamps are fixed (BUILD_DATE), so two runs over the
same sources give byte-identical files.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import gzip
import hashlib
import json
import os
import sys
import time
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "docgen" / "fonts"

# Fixed date written into head.created/head.modified and the modification
# notices.  Change it only when the set of fonts or the recipe changes.
BUILD_DATE = datetime.datetime(2026, 12, 2, tzinfo=datetime.timezone.utc)
MAX_ERR = 1.0  # cu2qu tolerance in font units (all sources have 1000 units/em)

NOTO_OTF = Path("/usr/share/fonts/opentype/noto")
NOTO_TTF = Path("/usr/share/fonts/truetype/noto")
LXGW_TTF = Path("/usr/share/fonts/truetype/lxgw-wenkai")
FANDOL_SUB = "usr/share/texlive/texmf-dist/fonts/opentype/public/fandol"
FANDOL_DOC_SUB = "usr/share/doc/texlive-doc/fonts/fandol"
DEFAULT_TEXLIVE_ROOTS = ["/tmp/fontsrc/texlive", "/"]

NOTO_LICENCE = "Noto-OFL-1.1.txt"
LXGW_LICENCE = "LXGWWenKai-OFL-1.1.txt"
FANDOL_LICENCE = "FandolFang-GPL-3.0-with-font-exception.txt"
TGH_FILE = OUT_DIR / "tgh2013.txt"
# Characters common in personal and place names that the 通用规范汉字表 does not list (issue 13): kept
# whenever a source font has them.
NAME_EXTRAS = "龘"
# Sizes of the GB 2312-only build (2026-11-28), for the size-cost table in the README.
GB2312_BUILD_SIZES = {
    "NotoSerifSC-Regular.ttf": 2853936, "NotoSerifSC-Bold.ttf": 2871732, "NotoSerifSC-Black.ttf": 2882404,
    "NotoSansSC-Regular.ttf": 2108008, "NotoSansSC-Bold.ttf": 2077992, "FandolFang-Regular.ttf": 5664968,
    "LXGWWenKai-Regular.ttf": 3527904,
}


# --------------------------------------------------------------------------
# Character sets
# --------------------------------------------------------------------------

def _ranges(*pairs: tuple[int, int]) -> set[int]:
    out: set[int] = set()
    for lo, hi in pairs:
        out.update(range(lo, hi + 1))
    return out


def gb2312_chars() -> set[int]:
    """Every character GB 2312 encodes, found by decoding each double-byte code."""
    chars: set[int] = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                text = bytes((hi, lo)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            chars.update(ord(c) for c in text)
    return chars


def tgh_chars(path: Path = TGH_FILE) -> set[int]:
    """The 8,105 characters of the 通用规范汉字表 (2013), from the list stored in the repository."""
    chars: set[int] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            chars.update(ord(c) for c in line.split("\t", 1)[1])
    if len(chars) != 8105:
        raise ValueError(f"{path}: expected 8105 characters, found {len(chars)}")
    return chars


def write_tgh(unihan: Path, out: Path = TGH_FILE) -> None:
    """Write the 通用规范汉字表 list from Unihan's kTGH field (``U+4E00<TAB>kTGH<TAB>2013:1``), in the
    table's order, 50 characters a line, each line led by the serial number of its first character."""
    import bz2
    opener = bz2.open if str(unihan).endswith(".bz2") else open
    rows = []
    with opener(unihan, "rt", encoding="utf-8") as fh:
        for line in fh:
            if "\tkTGH\t" not in line:
                continue
            cp, _, values = line.rstrip("\n").split("\t")
            for v in values.split():
                year, serial = v.split(":")
                if year == "2013":
                    rows.append((int(serial), chr(int(cp[2:], 16))))
    rows.sort()
    if [n for n, _ in rows] != list(range(1, 8106)):
        raise ValueError(f"{unihan}: kTGH 2013 serials are not 1..8105")
    header = [l for l in opener(unihan, "rt", encoding="utf-8").read(4096).splitlines()
              if l.startswith("# Date") or l.startswith("# Unicode version")]
    lines = ["# 通用规范汉字表 (国务院 2013): the 8,105 characters in table order (一级 1-3500, 二级 3501-6500,",
             "# 三级 6501-8105), 50 a line, each line led by the serial number of its first character.",
             f"# Derived from the Unicode Unihan database, field kTGH, file {unihan.name}"
             " (Debian package unicode-data),",
             "# by tools/build_fonts.py --write-tgh." + "".join(" " + h.lstrip("# ") + "." for h in header)]
    for i in range(0, len(rows), 50):
        chunk = rows[i:i + 50]
        lines.append(f"{chunk[0][0]}\t" + "".join(c for _, c in chunk))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def cjk_charset() -> set[int]:
    chars = _ranges(
        (0x0020, 0x007E),  # ASCII
        (0x00A0, 0x00FF),  # Latin-1 punctuation and symbols (and letters)
        (0x2000, 0x206F),  # General Punctuation
        (0x2460, 0x24FF),  # Enclosed Alphanumerics (①-⑳ ...)
        (0x3000, 0x303F),  # CJK Symbols and Punctuation
        (0xFF00, 0xFFEF),  # Halfwidth and Fullwidth Forms
    )
    chars |= gb2312_chars()
    chars |= tgh_chars()
    chars |= {ord(c) for c in NAME_EXTRAS}
    chars |= {ord(c) for c in "〔〕〖〗…‥—–·•℃％‰\u2E3A\u2E3B№™←↑→↓"}
    return chars


def hanzi_wanted() -> set[int]:
    """The Han characters a CJK subset must hold: GB 2312's, the 通用规范汉字表's and the name extras."""
    return {c for c in gb2312_chars() | tgh_chars() | {ord(c) for c in NAME_EXTRAS}
            if 0x3400 <= c <= 0x9FFF or 0x20000 <= c <= 0x3FFFF}


def latin_charset() -> set[int]:
    return _ranges(
        (0x0020, 0x024F),  # Basic Latin .. Latin Extended-B
        (0x02B0, 0x02FF),  # Spacing modifier letters (ˆ ˇ ˘ ˙ ˚ ˛ ˜ ˝)
        (0x0370, 0x03FF),  # Greek (α β μ Ω in technical text)
        (0x2000, 0x206F),  # General Punctuation
        (0x20AC, 0x20AC),  # €
        (0x2100, 0x214F),  # Letterlike symbols (™ № ℃)
        (0x2190, 0x21FF),  # Arrows
        (0x2212, 0x2212),  # minus sign
    )


# --------------------------------------------------------------------------
# Output specification
# --------------------------------------------------------------------------

def _spec(out, src, family, style, script, licence, licence_file, face=None, **extra):
    d = dict(out=out, src=src, family=family, style=style, script=script,
             licence=licence, licence_file=licence_file, face=face)
    d.update(extra)
    return d


def font_specs(texlive_root: Path | None) -> list[dict]:
    fandol = (texlive_root / FANDOL_SUB / "FandolFang-Regular.otf") if texlive_root else None
    specs = []
    for weight in ("Regular", "Bold", "Black"):
        specs.append(_spec(f"NotoSerifSC-{weight}.ttf", NOTO_OTF / f"NotoSerifCJK-{weight}.ttc",
                           "Noto Serif SC", weight, "cjk", "OFL-1.1", NOTO_LICENCE,
                           face="Noto Serif CJK SC"))
    for weight in ("Regular", "Bold"):
        specs.append(_spec(f"NotoSansSC-{weight}.ttf", NOTO_OTF / f"NotoSansCJK-{weight}.ttc",
                           "Noto Sans SC", weight, "cjk", "OFL-1.1", NOTO_LICENCE,
                           face="Noto Sans CJK SC"))
    specs.append(_spec("FandolFang-Regular.ttf", fandol, "FandolFang", "Regular", "cjk",
                       "GPL-3.0-only WITH Font-exception-2.0", FANDOL_LICENCE))
    # "LXGW" and "霞鹜" are Reserved Font Names (OFL section 3): a subset is a
    # Modified Version, so its family name must not use them.
    specs.append(_spec("LXGWWenKai-Regular.ttf", LXGW_TTF / "LXGWWenKai-Regular.ttf",
                       "Docgen WenKai", "Regular", "cjk", "OFL-1.1", LXGW_LICENCE,
                       source_family="LXGW WenKai"))
    for fam, stem in (("Noto Serif", "NotoSerif"), ("Noto Sans", "NotoSans")):
        for style in ("Regular", "Bold", "Italic", "Bold Italic"):
            fn = f"{stem}-{style.replace(' ', '')}.ttf"
            specs.append(_spec(fn, NOTO_TTF / fn, fam, style, "latin", "OFL-1.1", NOTO_LICENCE))
    specs.append(_spec("NotoSansMono-Regular.ttf", NOTO_TTF / "NotoSansMono-Regular.ttf",
                       "Noto Sans Mono", "Regular", "latin", "OFL-1.1", NOTO_LICENCE,
                       monospace=True))
    return specs


def style_key(style: str) -> str:
    return style.lower().replace(" ", "_")


def ps_name(family: str, style: str) -> str:
    return family.replace(" ", "") + "-" + style.replace(" ", "")


# --------------------------------------------------------------------------
# Building one font
# --------------------------------------------------------------------------

def open_source(spec: dict) -> TTFont:
    path = spec["src"]
    if path is None or not Path(path).exists():
        raise FileNotFoundError(f"{spec['out']}: source font not found: {path}")
    if spec["face"] is None:
        return TTFont(path)
    # Pick the face of a collection by family name (nameID 16, else 1).
    coll = TTCollection(path, lazy=True)
    for index, face in enumerate(coll.fonts):
        name = face["name"]
        fam = name.getDebugName(16) or name.getDebugName(1)
        if fam == spec["face"]:
            return TTFont(path, fontNumber=index)
    raise LookupError(f"{path}: no face named {spec['face']!r}")


def subset_font(font: TTFont, chars: set[int]) -> None:
    opts = subset.Options()
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.hinting = False
    opts.glyph_names = False
    opts.notdef_outline = True
    opts.recommended_glyphs = True
    opts.layout_features = []
    # ReportLab reads none of these; dropping them keeps the files small.
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "JSTF", "kern", "gasp",
                         "DSIG", "hdmx", "LTSH", "VDMX"]
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=sorted(chars))
    sub.subset(font)


def cff_to_glyf(font: TTFont, max_err: float = MAX_ERR) -> None:
    """Replace the CFF table with glyf/loca holding quadratic outlines."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for gname in order:
        tt_pen = TTGlyphPen(None)
        # PostScript outer contours run counter-clockwise, TrueType clockwise.
        glyph_set[gname].draw(Cu2QuPen(tt_pen, max_err, reverse_direction=True))
        glyphs[gname] = tt_pen.glyph(dropImpliedOnCurves=True)

    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    for tag in ("CFF ", "CFF2", "VORG"):
        if tag in font:
            del font[tag]

    # Left side bearings must equal xMin for TrueType outlines.
    hmtx = font["hmtx"]
    for gname in order:
        g = glyphs[gname]
        g.recalcBounds(glyf)
        adv, _ = hmtx[gname]
        hmtx[gname] = (adv, g.xMin if g.numberOfContours else 0)

    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                 "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                 "maxComponentElements", "maxComponentDepth", "maxPoints", "maxContours",
                 "maxCompositePoints", "maxCompositeContours"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"


def set_post_format3(font: TTFont) -> None:
    post = font["post"]
    post.formatType = 3.0
    for attr in ("extraNames", "mapping", "glyphOrder"):
        if hasattr(post, attr):
            delattr(post, attr)


def rename(font: TTFont, spec: dict, src_version: str, src_name: str) -> None:
    """Give the subset its own names and a notice that it was modified."""
    name = font["name"]
    family, style = spec["family"], spec["style"]
    ribbi = style in ("Regular", "Bold", "Italic", "Bold Italic")
    psn = ps_name(family, style)
    date = BUILD_DATE.date().isoformat()
    charset = ("通用规范汉字表 (2013) + GB 2312 + CJK punctuation" if spec["script"] == "cjk"
               else "Latin (U+0020-024F) + punctuation")
    note = (f"Modified version of {src_name} {src_version.removeprefix('Version ').split(';')[0]}, "
            f"made {date} by docgen tools/build_fonts.py: subset to {charset}"
            + ("; PostScript outlines converted to TrueType" if spec.get("converted") else "")
            + "; hinting and OpenType layout tables removed.")
    if spec["out"].startswith("FandolFang"):
        note += (" As permitted by its licence, the GPL font exception is extended to this"
                 " modified version. Corresponding source: the unmodified FandolFang-Regular.otf"
                 " (CTAN fonts/fandol) and tools/build_fonts.py.")
    if spec.get("source_family"):
        note += (f" Renamed because the original font names are Reserved Font Names"
                 f" under the SIL OFL 1.1; this is not the original {spec['source_family']}.")

    drop = {1, 2, 3, 4, 5, 6, 10, 16, 17, 18, 21, 22, 25}
    name.names = [n for n in name.names if n.nameID not in drop]
    # Description strings in the source may mention the original name; fonts
    # like LXGW WenKai also carry localised (Chinese) family names: all gone above.
    fields = {
        1: family if ribbi else f"{family} {style}",
        2: style if ribbi else "Regular",
        3: f"{psn};{src_version.removeprefix('Version ').split(';')[0]};docgen-subset",
        4: f"{family} {style}" if style != "Regular" else family,
        5: f"{src_version.split(';')[0]}; docgen subset {date}",
        6: psn,
        10: note,
    }
    if not ribbi:
        fields[16] = family
        fields[17] = style
    if spec["out"].startswith("FandolFang"):
        fields[13] = ("Licensed under the GNU General Public License version 3 with the"
                      " GPL font exception; see FandolFang-GPL-3.0-with-font-exception.txt.")
        fields[14] = "https://www.gnu.org/licenses/gpl-3.0.html"
    if not ribbi:
        # Non-RIBBI styles are "Regular" members of their own style-linked family.
        os2 = font["OS/2"]
        os2.fsSelection = (os2.fsSelection & ~0x0061) | 0x0040
        font["head"].macStyle &= ~0x0003
    for nid, text in sorted(fields.items()):
        name.setName(text, nid, 3, 1, 0x409)
    name.names.sort(key=lambda n: (n.platformID, n.platEncID, n.langID, n.nameID))


def fix_timestamps(font: TTFont) -> None:
    epoch = datetime.datetime(1904, 1, 1, tzinfo=datetime.timezone.utc)
    stamp = int((BUILD_DATE - epoch).total_seconds())
    font["head"].created = stamp
    font["head"].modified = stamp


def build_one(spec: dict, out_dir: str) -> dict:
    t0 = time.monotonic()
    font = open_source(spec)
    src_version = font["name"].getDebugName(5) or f"Version {font['head'].fontRevision:.3f}"
    src_name = font["name"].getDebugName(16) or font["name"].getDebugName(1)
    src_cmap = set(font.getBestCmap())
    chars = cjk_charset() if spec["script"] == "cjk" else latin_charset()
    wanted = hanzi_wanted() if spec["script"] == "cjk" else set()
    subset_font(font, chars)
    spec = dict(spec, converted="CFF " in font)
    if spec["converted"]:
        cff_to_glyf(font)
    set_post_format3(font)
    rename(font, spec, src_version, src_name)
    fix_timestamps(font)
    out = Path(out_dir) / spec["out"]
    font.recalcTimestamp = False  # else head.modified becomes "now" on save
    font.save(out, reorderTables=True)
    font.close()
    return {
        "out": spec["out"],
        "src": str(spec["src"]),
        "src_name": src_name,
        "src_version": src_version.split(";")[0].removeprefix("Version ").strip(),
        "converted": spec["converted"],
        "missing_hanzi": "".join(chr(c) for c in sorted(wanted - src_cmap)),
        "seconds": round(time.monotonic() - t0, 1),
    }


# --------------------------------------------------------------------------
# Licences, manifest, README
# --------------------------------------------------------------------------

def debian_licence_text(copyright_file: Path, licence: str) -> str:
    """The body of a 'License: NAME' stanza of a Debian machine-readable copyright file."""
    lines = copyright_file.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f"License: {licence}" and i + 1 < len(lines) and lines[i + 1].startswith(" "):
            body = []
            for raw in lines[i + 1:]:
                if not raw.startswith(" "):
                    break
                text = raw[1:]
                body.append("" if text.strip() == "." else text)
            while body and not body[-1].strip():
                body.pop()
            return "\n".join(body) + "\n"
    raise LookupError(f"{copyright_file}: no body for License: {licence}")


def copyright_lines(paths_and_faces) -> list[str]:
    seen: list[str] = []
    for path, face in paths_and_faces:
        spec = {"out": str(path), "src": path, "face": face}
        font = open_source(spec) if face else TTFont(path, lazy=True)
        text = font["name"].getDebugName(0) or ""
        for line in text.splitlines():
            if line.strip() and line.strip() not in seen:
                seen.append(line.strip())
        font.close()
    return seen


def write_licences(out_dir: Path, specs: list[dict], texlive_root: Path | None) -> None:
    lic_dir = out_dir / "LICENSES"
    lic_dir.mkdir(parents=True, exist_ok=True)
    by_file: dict[str, list[dict]] = {}
    for s in specs:
        by_file.setdefault(s["licence_file"], []).append(s)

    ofl = debian_licence_text(Path("/usr/share/doc/fonts-noto-cjk/copyright"), "SIL-1.1")
    if NOTO_LICENCE in by_file:
        notices = copyright_lines((s["src"], s["face"]) for s in by_file[NOTO_LICENCE])
        files = ", ".join(s["out"] for s in by_file[NOTO_LICENCE])
        text = ("Noto fonts bundled with docgen: " + files + "\n\n"
                + "\n".join(notices) + "\n\n"
                "These files are subsets (Modified Versions) of the Noto fonts shipped in the\n"
                "Debian packages fonts-noto-cjk, fonts-noto-cjk-extra, fonts-noto-core and\n"
                "fonts-noto-mono, licensed under the SIL Open Font License, Version 1.1.\n"
                "Source: https://github.com/notofonts  https://github.com/notofonts/noto-cjk\n"
                "Licence text as shipped in /usr/share/doc/fonts-noto-cjk/copyright:\n\n"
                + ofl)
        (lic_dir / NOTO_LICENCE).write_text(text, encoding="utf-8")

    if LXGW_LICENCE in by_file:
        deb = Path("/usr/share/doc/fonts-lxgw-wenkai/copyright")
        notices = copyright_lines((s["src"], None) for s in by_file[LXGW_LICENCE])
        text = ("LXGWWenKai-Regular.ttf (internal family name \"Docgen WenKai\")\n\n"
                + "\n".join(notices) + "\n"
                "with Reserved Font Names \"霞鹜\" and \"LXGW\" (per the Debian package's\n"
                "copyright file: \"Fonts rebuilt from unmodified source code are allowed to\n"
                "use Reserved Font Names\").\n\n"
                "This file is a subset, i.e. a Modified Version, of LXGW WenKai Regular from\n"
                "the Debian package fonts-lxgw-wenkai (upstream https://github.com/lxgw/LxgwWenKai),\n"
                "so its font names do not use the Reserved Font Names.\n"
                "Licence text as shipped in /usr/share/doc/fonts-lxgw-wenkai/copyright:\n\n"
                + debian_licence_text(deb, "OFL-1.1"))
        (lic_dir / LXGW_LICENCE).write_text(text, encoding="utf-8")

    if FANDOL_LICENCE in by_file and texlive_root and (texlive_root / FANDOL_DOC_SUB).exists():
        doc = texlive_root / FANDOL_DOC_SUB
        readme = (doc / "README").read_text(encoding="utf-8")
        with gzip.open(doc / "COPYING.gz", "rt", encoding="utf-8") as fh:
            copying = fh.read()
        notices = copyright_lines((s["src"], None) for s in by_file[FANDOL_LICENCE])
        text = ("FandolFang-Regular.ttf\n\n"
                + "\n".join(notices) + "\n\n"
                "Licence: GNU General Public License version 3 with the GPL font exception\n"
                "(the exception is the last paragraph of the licence text below).\n\n"
                f"This file is a modified version of FandolFang-Regular.otf, made\n"
                f"{BUILD_DATE.date().isoformat()} by docgen's tools/build_fonts.py: subset to the\n"
                "通用规范汉字表 (2013), GB 2312 and CJK punctuation, PostScript outlines converted to TrueType, hinting and\n"
                "OpenType layout tables removed.  The font exception is extended to this\n"
                "modified version, so documents that embed it are not thereby covered by\n"
                "the GPL.\n\n"
                "Corresponding source: the unmodified FandolFang-Regular.otf from CTAN\n"
                "(https://ctan.org/pkg/fandol, fonts/opentype/public/fandol/) or the Debian\n"
                "package texlive-lang-chinese, together with tools/build_fonts.py in the\n"
                "docgen source tree, which regenerates this file.\n\n"
                "---- README (texlive-doc/fonts/fandol/README) ----\n\n" + readme +
                "\n---- COPYING (texlive-doc/fonts/fandol/COPYING) ----\n\n" + copying)
        (lic_dir / FANDOL_LICENCE).write_text(text, encoding="utf-8")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_facts(path: Path) -> dict:
    font = TTFont(path, lazy=True)
    facts = {
        "glyphs": font["maxp"].numGlyphs,
        "codepoints": len(font.getBestCmap()),
        "version": (font["name"].getDebugName(5) or "").split(";")[0].removeprefix("Version ").strip(),
        "size": path.stat().st_size,
        "sha256": sha256(path),
    }
    font.close()
    return facts


def write_manifest_and_readme(out_dir: Path, specs: list[dict], results: dict[str, dict]) -> None:
    files = {}
    rows = []
    cost = []
    lacking = []
    try:     # an --only build keeps the other files' entries
        prev = json.loads((out_dir / "fonts.json").read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        prev = {}
    for s in specs:
        path = out_dir / s["out"]
        if not path.exists():
            continue
        f = file_facts(path)
        r = results.get(s["out"], {})
        entry = {
            "family": s["family"],
            "style": style_key(s["style"]),
            "script": s["script"],
            "licence": s["licence"],
            "licence_file": "LICENSES/" + s["licence_file"],
            "source": Path(str(s["src"])).name,
            "source_version": f["version"],
            "glyphs": f["glyphs"],
            "codepoints": f["codepoints"],
            "size": f["size"],
            "sha256": f["sha256"],
        }
        if s.get("monospace"):
            entry["monospace"] = True
        if s.get("source_family"):
            entry["source_family"] = s["source_family"]
        if s["script"] == "cjk":
            # the wanted Han characters (GB 2312, 通用规范汉字表, NAME_EXTRAS) its source font lacks
            entry["missing_hanzi"] = r.get("missing_hanzi", prev.get(s["out"], {}).get("missing_hanzi", ""))
        files[s["out"]] = entry
        src = Path(str(s["src"])).name + (f" ({s['face']})" if s["face"] else "")
        rows.append(f"| `{s['out']}` | {src} | {f['version']} | {s['licence']} | "
                    f"{f['glyphs']} glyphs / {f['codepoints']} chars | {f['size'] / 1e6:.2f} MB |")
        if s["out"] in GB2312_BUILD_SIZES:
            before = GB2312_BUILD_SIZES[s["out"]]
            cost.append((s["out"], before, f["size"]))
        if entry.get("missing_hanzi"):
            miss = entry["missing_hanzi"]
            lacking.append(f"* `{s['out']}` lacks {len(miss)}: {miss}")
    b_all, a_all = sum(c[1] for c in cost), sum(c[2] for c in cost)
    cost_rows = [f"| `{n}` | {b / 1e6:.2f} MB | {a / 1e6:.2f} MB | +{(a - b) / 1e6:.2f} MB (+{(a - b) / b:.0%}) |"
                 for n, b, a in cost]
    cost_rows.append(f"| all CJK files | {b_all / 1e6:.2f} MB | {a_all / 1e6:.2f} MB | "
                     f"+{(a_all - b_all) / 1e6:.2f} MB (+{(a_all - b_all) / max(b_all, 1):.0%}) |")
    manifest = {"files": files}
    (out_dir / "fonts.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                        encoding="utf-8")
    total = sum(e["size"] for e in files.values())
    readme = README_TEMPLATE.format(rows="\n".join(rows), total=f"{total / 1e6:.1f}", cost="\n".join(cost_rows),
                                    lacking="\n".join(lacking) or "* none", tgh=len(tgh_chars()),
                                    hanzi=len(hanzi_wanted()))
    (out_dir / "README.md").write_text(readme, encoding="utf-8")


README_TEMPLATE = """\
# Bundled fonts

Generated by `tools/build_fonts.py` (see the top of that file for how to get the
source fonts).  Do not edit the font files, `fonts.json` or this README by hand;
rerun the script.

All files are **subsets** with TrueType (`glyf`) outlines, as ReportLab can only
embed TrueType outlines.  CFF sources (Noto CJK, FandolFang) were converted with
fontTools cu2qu (max error 1 unit per 1000 em).  Hinting and the OpenType layout
tables (GSUB/GPOS/GDEF/BASE, kerning) were removed, since ReportLab uses neither.

| File | Source | Version | Licence | Coverage | Size |
|---|---|---|---|---|---|
{rows}

Total: {total} MB.  `fonts.json` lists the same files with family, style,
script, licence and SHA-256.

## Coverage

* CJK fonts: the **{tgh} characters of the 通用规范汉字表** (2013; the list is
  `tgh2013.txt`, from Unihan's kTGH field), all characters of **GB 2312** (its
  6763 hanzi, 125 of which the 通用规范汉字表 does not list, plus its symbols,
  pinyin, Greek, Cyrillic, kana), 龘 (a name character neither lists) — {hanzi}
  hanzi in all — and ASCII, Latin-1, General Punctuation U+2000-206F, CJK
  Symbols and Punctuation U+3000-303F, Enclosed Alphanumerics U+2460-24FF
  (①-⑳), Halfwidth and Fullwidth Forms U+FF00-FFEF, and 〔〕〖〗…‥—–·•℃％‰⸺⸻,
  where the source has them.  Traditional characters and the rarer extension
  blocks are not included: the fallback below finds them in installed fonts.
* Latin fonts: U+0020-024F, spacing modifiers, Greek, General Punctuation, €,
  letterlike symbols (™ № ℃), arrows, minus.

Wanted hanzi a source font does not have (so the subset lacks them too):

{lacking}

A character the theme's fonts lack is drawn by the first font that has it,
searched by coverage: the bundled fonts and (with `system_fallback`) every
installed font, the same style class as the theme's font first (仿宋 → other
仿宋, then 宋体/serif faces; 楷体 → other 楷体, then serif; 黑体 → sans), and
the render warns, naming the font used, the block's field path and the
character's position.  So a character FandolFang lacks comes out in Noto Serif
SC when no other 仿宋 is installed.

## Size cost of the 通用规范汉字表 coverage

Against the GB 2312-only build (2026-11-28):

| File | GB 2312 only | now | cost |
|---|---|---|---|
{cost}

## Using a fuller font

Characters missing here are found by coverage in the other bundled fonts and,
with `system_fallback` (on by default), in every installed font; or point a
theme at any font file: font entries in a layout's `theme.yaml` take a bundled
file name, a path inside the layout's folder (a spec's `theme:` overrides: the
spec's folder) or a file in a system font folder (`/usr/share/fonts`,
`~/Library/Fonts`, `C:\\Windows\\Fonts`, …), for example

```yaml
fonts:
  body:
    cjk: [{{regular: fonts/NotoSerifSC-Regular-full.ttf, bold: fonts/NotoSerifSC-Bold-full.ttf}}]
  roles:        # 公文 typeface roles: licensed fonts first, a fallback chain each
    fangsong: [C:\\Windows\\Fonts\\仿宋_GB2312.ttf, C:\\Windows\\Fonts\\simfang.ttf]
```

Fonts with CFF outlines (`.otf`, most `.ttc` CJK collections) are converted to
TrueType outlines once, into docgen's cache (`~/.cache/docgen/fonts`).

## Licences

* Noto fonts: SIL Open Font License 1.1, `LICENSES/{noto}`.
* `LXGWWenKai-Regular.ttf`: SIL Open Font License 1.1, `LICENSES/{lxgw}`.
  "LXGW" and "霞鹜" are Reserved Font Names, so this modified (subset) version
  is named **Docgen WenKai** inside the font.
* `FandolFang-Regular.ttf`: GNU GPL version 3 with the GPL font exception,
  `LICENSES/{fandol}`.  Embedding it in a PDF does not put the PDF under the
  GPL; redistributing the font file itself is subject to the GPL (its
  corresponding source is the unmodified FandolFang-Regular.otf from CTAN plus
  `tools/build_fonts.py`).
""".replace("{noto}", NOTO_LICENCE).replace("{lxgw}", LXGW_LICENCE).replace("{fandol}", FANDOL_LICENCE)


# --------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------

CJK_SAMPLE = "杭州西湖导览 West Lake 使用 Qwen-Image 20B 模型。，「」——……"
LATIN_SAMPLE = "West Lake — Qwen-Image 20B, naïve café, €5, “quoted” ‘text’ … μm ™"


def verify(out_dir: Path, specs: list[dict], pdf_dir: Path | None = None) -> bool:
    """Check glyf outlines, ReportLab registration and a PDF text round trip."""
    from io import BytesIO

    from pypdf import PdfReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont as RLTTFont
    from reportlab.pdfgen import canvas

    ok = True
    for s in specs:
        path = out_dir / s["out"]
        problems = []
        font = TTFont(path)
        if "glyf" not in font or "CFF " in font:
            problems.append("no glyf table")
        sample = CJK_SAMPLE if s["script"] == "cjk" else LATIN_SAMPLE
        cmap = font.getBestCmap()
        missing = [c for c in sample if c != " " and ord(c) not in cmap]
        if missing:
            problems.append(f"sample chars missing: {''.join(missing)}")
        font.close()
        rl_name = "docgen-" + path.stem
        pdfmetrics.registerFont(RLTTFont(rl_name, str(path)))
        buf = BytesIO()
        c = canvas.Canvas(buf, pagesize=(720, 50), invariant=1)
        c.setFont(rl_name, 16)
        c.drawString(10, 18, sample)
        c.showPage()
        c.save()
        data = buf.getvalue()
        if pdf_dir:
            pdf_dir.mkdir(parents=True, exist_ok=True)
            (pdf_dir / (path.stem + ".pdf")).write_bytes(data)
        text = PdfReader(BytesIO(data)).pages[0].extract_text()
        if "".join(text.split()) != "".join(sample.split()):
            problems.append(f"text round trip gave {text!r}")
        status = "ok" if not problems else "FAIL: " + "; ".join(problems)
        print(f"verify {s['out']:<28} {status}")
        ok = ok and not problems
    return ok


# --------------------------------------------------------------------------

def find_texlive_root(arg: str | None) -> Path | None:
    candidates = [arg] if arg else DEFAULT_TEXLIVE_ROOTS
    for c in candidates:
        if c and (Path(c) / FANDOL_SUB / "FandolFang-Regular.otf").exists():
            return Path(c)
    return Path(arg) if arg else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--texlive-root", help="root of the unpacked texlive-lang-chinese .deb "
                    f"(default: first of {DEFAULT_TEXLIVE_ROOTS} that has FandolFang)")
    ap.add_argument("--out", default=str(OUT_DIR), help="output folder (default docgen/fonts)")
    ap.add_argument("--only", nargs="*", help="build only these output files")
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    ap.add_argument("--verify", action="store_true", help="verify the outputs after building")
    ap.add_argument("--verify-only", action="store_true", help="only verify existing outputs")
    ap.add_argument("--pdf-dir", help="with --verify: also write the sample PDFs here")
    ap.add_argument("--write-tgh", metavar="UNIHAN", help="write docgen/fonts/tgh2013.txt from Unihan's kTGH "
                    "field (Unihan_OtherMappings.txt[.bz2]) and stop")
    args = ap.parse_args(argv)
    if args.write_tgh:
        write_tgh(Path(args.write_tgh))
        print(f"wrote {TGH_FILE} ({len(tgh_chars())} characters)")
        return 0

    out_dir = Path(args.out)
    texlive_root = find_texlive_root(args.texlive_root)
    specs = font_specs(texlive_root)
    if args.only:
        unknown = set(args.only) - {s["out"] for s in specs}
        if unknown:
            ap.error(f"unknown output(s): {', '.join(sorted(unknown))}")
    todo = [s for s in specs if not args.only or s["out"] in args.only]
    pdf_dir = Path(args.pdf_dir) if args.pdf_dir else None

    if args.verify_only:
        return 0 if verify(out_dir, todo, pdf_dir) else 1

    missing = [f"{s['out']}: {s['src']}" for s in todo if s["src"] is None or not Path(s["src"]).exists()]
    if missing:
        print("source fonts not found (see the top of this script):\n  " + "\n  ".join(missing),
              file=sys.stderr)
        return 2
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    results: dict[str, dict] = {}
    # Largest jobs first so the pool stays busy.
    todo_sorted = sorted(todo, key=lambda s: (s["script"] != "cjk", s["out"]))
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(build_one, s, str(out_dir)): s for s in todo_sorted}
        for fut in concurrent.futures.as_completed(futures):
            r = fut.result()
            results[r["out"]] = r
    for s in todo:
        r = results[s["out"]]
        f = file_facts(out_dir / s["out"])
        extra = f", {len(r['missing_hanzi'])} wanted hanzi not in source" if s["script"] == "cjk" else ""
        print(f"{s['out']:<28} {f['size'] / 1e6:6.2f} MB  {f['glyphs']:5d} glyphs  "
              f"{f['codepoints']:5d} chars  ({r['seconds']} s{', CFF->glyf' if r['converted'] else ''}{extra})")
    write_licences(out_dir, specs, texlive_root)
    write_manifest_and_readme(out_dir, specs, results)
    total = sum((out_dir / s["out"]).stat().st_size for s in specs if (out_dir / s["out"]).exists())
    print(f"total {total / 1e6:.2f} MB in fonts; built in {time.monotonic() - t0:.0f} s")
    if args.verify:
        return 0 if verify(out_dir, todo, pdf_dir) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
