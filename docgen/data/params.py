"""Parameters: the spec's declared ``params`` and the values given (CLI strings, batch rows, schedules) in,
typed values out.  Undeclared names and missing required values are errors with the field path."""
from __future__ import annotations

from typing import Any

from ..errors import Problem, SpecError
from ..spec.models import Param
from .values import coerce


def resolve_params(declared: dict[str, Param], given: dict[str, Any] | None, *,
                   ignore_unknown: bool = False) -> dict[str, Any]:
    given = dict(given or {})
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    if not ignore_unknown:
        for k in given:
            if k not in declared:
                problems.append(Problem(f"params.{k}", "not a parameter of this spec (declared: "
                                                       f"{', '.join(declared) or 'none'})"))
    for name, p in declared.items():
        choices = None
        if p.choices is not None:
            try:
                choices = [coerce(c, p.type) for c in p.choices]
            except ValueError as e:
                problems.append(Problem(f"params.{name}.choices", f"{e} (type {p.type})"))
                continue
        raw, where = (given[name], f"params.{name}") if name in given else (p.default, f"params.{name}.default")
        try:
            v = coerce(raw, p.type)
        except ValueError as e:
            problems.append(Problem(where, str(e)))
            continue
        if v is None:
            problems.append(Problem(f"params.{name}", "required: give a value (e.g. --param "
                                                      f"{name}=…) or a default in the spec"))
            continue
        if choices is not None and v not in choices:
            problems.append(Problem(where, f"{v!s} is not one of {', '.join(map(str, p.choices))}"))
            continue
        out[name] = v
    if problems:
        raise SpecError(problems)
    return out


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """``["month=2026-11", …]`` (the CLI's --param) -> {"month": "2026-11"}."""
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep or not k.strip():
            raise SpecError(Problem("params", f"--param {it!r}: expected name=value"))
        out[k.strip()] = v
    return out
