"""The package's shape: no import circles in the core, streamlit only under lrlab/ui, optional libraries lazy."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lrlab"

#: The circles left on purpose: a composite (torch's SequentialLR and ChainedScheduler, optax's join_schedules)
#: looks its children up in the registry, which holds the composites; the lookup is made inside the function
#: that needs it, never at import time.
ALLOWED = {
    ("lrlab.compose", "lrlab.schedulers"),
    ("lrlab.schedulers.optax_specs", "lrlab.schedulers"),
    ("lrlab.schedulers._optax_args", "lrlab.schedulers"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    base = ROOT / name.replace(".", "/")
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def imports(path: Path) -> set[str]:
    """The lrlab modules ``path`` imports, at module level or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lrlab"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if is_module(full) else node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("lrlab"))
    return out - {"lrlab"}


def core_graph() -> dict[str, set[str]]:
    graph = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        if "ui" in path.relative_to(PACKAGE).parts:
            continue
        name = module_name(path)
        graph[name] = {t for t in imports(path) if t != name and (name, t) not in ALLOWED}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        if state.get(node) == 1:
            return [*path[path.index(node) :], node]
        if state.get(node) == 2:
            return None
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            found = visit(target, [*path, node])
            if found:
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def test_the_core_modules_import_each_other_without_a_circle():
    assert find_cycle(core_graph()) is None, " -> ".join(find_cycle(core_graph()) or [])


def test_the_cycle_finder_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_only_the_ui_package_imports_streamlit():
    offenders = [
        str(p.relative_to(ROOT))
        for p in PACKAGE.rglob("*.py")
        if "ui" not in p.relative_to(PACKAGE).parts
        and any(
            (isinstance(n, ast.Import) and any(a.name.startswith("streamlit") for a in n.names))
            or (isinstance(n, ast.ImportFrom) and (n.module or "").startswith("streamlit"))
            for n in ast.walk(ast.parse(p.read_text()))
        )
    ]
    assert offenders == []


def test_importing_lrlab_loads_torch_and_none_of_the_optional_libraries():
    code = (
        "import sys, lrlab; lrlab.SCHEDULERS; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'transformers', 'timm', 'keras', 'jax', 'optax', 'fastai', 'streamlit', 'sklearn'}), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True"], out.stdout + out.stderr
