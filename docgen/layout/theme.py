"""Themes in the layout stage: a layout's theme.yaml data and a spec's ``theme:`` overrides in, one merged
theme's data out (validated by the caller as a :class:`Theme`).

The theme models themselves (the format of theme.yaml and of the overrides) live in docgen/spec/theme.py,
where the spec stage can type its ``theme:`` key with them; they are re-exported here.
"""
from __future__ import annotations

import copy

from ..spec.theme import (FONT_ROLES, PAPER_MM, FamilySpec, Folio, Fonts, FontSet, Grid, Margins, PageTemplate,
                          Running, Style, Theme, ThemeOverrides, font_path_problem, is_windows_path,
                          system_font_dirs)


def merge(base: dict, over: dict) -> dict:
    """Deep-merge the spec's theme overrides into the layout's theme (mappings merge, others replace)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


__all__ = ["FONT_ROLES", "PAPER_MM", "FamilySpec", "Folio", "FontSet", "Fonts", "Grid", "Margins", "PageTemplate",
           "Running", "Style", "Theme", "ThemeOverrides", "font_path_problem", "is_windows_path", "merge",
           "system_font_dirs"]
