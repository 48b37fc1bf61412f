"""Font roles from embedded font names: a PDF font name (``ABCDEF+FandolFang-Regular``) in, the typeface
role GB/T 9704 asks for (仿宋, 楷体, 黑体, 小标宋, 宋体) out, or None when the name does not tell.

GB/T 9704-2012 names typefaces, not fonts: 正文 in 仿宋 (7.3.3), 标题 in 小标宋 (7.3.1), first-level
headings in 黑体 and second-level in 楷体 (7.3.3), 密级/紧急程度 in 黑体 (7.2.2, 7.2.3).  A PDF only
carries font names, so the role is read from the family name: 仿宋_GB2312 is ``FangSong_GB2312``, 方正小标宋
is ``FZXiaoBiaoSong-B05S``, 黑体 ``SimHei``, and docgen's bundled stand-ins are FandolFang, LXGW WenKai,
Noto Sans SC and Noto Serif SC Black (a 宋体 at bold or black weight stands in for 小标宋).
"""

from __future__ import annotations

import re

FANGSONG, KAITI, HEITI, XIAOBIAOSONG, SONGTI = "仿宋", "楷体", "黑体", "小标宋", "宋体"

# order matters: 小标宋 is a 宋, 仿宋 is a 宋 too
_PATTERNS = (
    (XIAOBIAOSONG, re.compile(r"xbs|xiaobiaosong|biaosong|小标宋|标宋", re.I)),
    (FANGSONG, re.compile(r"fang|仿宋|(^|[^a-z])fs(_?gb|[^a-z]|$)|fzfsk", re.I)),
    (KAITI, re.compile(r"kai|楷", re.I)),
    (HEITI, re.compile(r"hei|黑|sans|gothic", re.I)),
    (SONGTI, re.compile(r"song|宋|serif|ming|sun", re.I)),
)
_HEAVY = re.compile(r"black|heavy|bold|demi", re.I)


def font_role(fontname: str | None) -> str | None:
    """The role of a PDF font by its name, or None when the name does not tell (e.g. ``F1``)."""
    if not fontname:
        return None
    name = fontname.split("+", 1)[-1]
    for role, pat in _PATTERNS:
        if pat.search(name):
            if role == SONGTI and _HEAVY.search(name):
                return XIAOBIAOSONG  # a bold or black 宋体 is the 小标宋 stand-in
            return role
    return None


def is_cjk(ch: str) -> bool:
    # one character: pdfminer writes "(cid:12)" for a glyph without a Unicode mapping
    return len(ch) == 1 and ord(ch) >= 0x2E80 and ch.isalpha()


def line_role(chars: list[dict]) -> tuple[str | None, str | None]:
    """(role, font name) of the most common font among the CJK characters of ``chars``."""
    counts: dict[str, int] = {}
    for c in chars:
        if is_cjk(c["text"]):
            counts[c.get("fontname", "")] = counts.get(c.get("fontname", ""), 0) + 1
    if not counts:
        return None, None
    # subsets of one font (AAAAAA+X, AAAAAB+X) count together
    merged: dict[str, int] = {}
    for k, n in counts.items():
        base = k.split("+", 1)[-1]
        merged[base] = merged.get(base, 0) + n
    name = max(merged, key=lambda k: merged[k])
    return font_role(name), name
