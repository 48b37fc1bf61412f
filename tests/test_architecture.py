"""The shape of the code: stages import only the stages before them, no import cycles, no module takes
another module's private names, block kinds listed once, backends never told apart by name."""
from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "docgen"

# stage -> the stages (and shared helpers) it may import; a stage may always import itself
ALLOWED = {
    "errors": set(), "_io": {"errors"},
    "spec": {"errors", "_io"},
    "data": {"spec", "errors", "_io"},
    "layout": {"spec", "errors", "_io"},
    "regions": {"layout", "spec", "errors", "_io"},
    "typeset": {"layout", "spec", "errors", "_io"},
    "pdf": {"errors", "_io"},
    "check": {"errors", "_io"},
}


def _modules():
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), p


def _imports(name: str, path: Path, top_level_only: bool):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("docgen"):
                yield mod, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("docgen"):
                    yield a.name, [], node.lineno


def _stage(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_stages_import_only_earlier_stages():
    bad = []
    for name, path in _modules():
        st = _stage(name)
        if st not in ALLOWED:
            continue
        for mod, names, line in _imports(name, path, top_level_only=False):
            targets = {_stage(mod)} | {_stage(f"{mod}.{n}") for n in names if (PKG / _stage(mod) / f"{n}.py").exists()}
            for t in targets - {st, ""}:
                if t not in ALLOWED[st]:
                    bad.append(f"{path.relative_to(PKG.parent)}:{line} ({st}) imports {mod} ({t})")
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    mods = dict(_modules())
    graph = {}
    for name, path in mods.items():
        deps = set()
        for mod, names, _ in _imports(name, path, top_level_only=True):
            for cand in [f"{mod}.{n}" for n in names] + [mod]:
                if cand in mods and cand != name:
                    deps.add(cand)
                    break
        graph[name] = deps
    # a package's __init__ importing its own submodules is not a cycle; a submodule importing its parent is
    seen, stack, cycles = set(), [], []

    def visit(n):
        if n in stack:
            cycles.append(stack[stack.index(n):] + [n])
            return
        if n in seen:
            return
        seen.add(n)
        stack.append(n)
        for d in graph[n]:
            if not (d.startswith(n + ".") ):
                visit(d)
        stack.pop()
    for n in graph:
        visit(n)
    cycles = [c for c in cycles if not all(x == c[0] or x.startswith(c[0] + ".") or c[0].startswith(x + ".") for x in c)]
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_no_module_imports_another_modules_private_names():
    bad = []
    for name, path in _modules():
        for mod, names, line in _imports(name, path, top_level_only=False):
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    bad.append(f"{path.relative_to(PKG.parent)}:{line} imports {n} from {mod}")
    assert not bad, "\n".join(bad)


def test_backends_are_never_told_apart_by_name_outside_regions():
    bad = []
    for name, path in _modules():
        if _stage(name) == "regions":
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if '"draft"' in line:
                bad.append(f"{path.relative_to(PKG.parent)}:{i}: {line.strip()}")
    assert not bad, "\n".join(bad)


def test_block_kinds_are_named_in_one_place():
    # the kind names appear as a list only in spec/blocks.py's BLOCKS
    pat = re.compile(r'\(\s*"heading",\s*"paragraph"')
    hits = [str(p.relative_to(PKG.parent)) for _, p in _modules() if pat.search(p.read_text(encoding="utf-8"))]
    assert hits == [], hits
