"""The engine reads bottom-up: no import cycle, no import of nn, and graphviz only once a drawing is asked for."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "tinygrad_edu"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for each import the file runs (TYPE_CHECKING blocks skipped)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [base] if child.module else [f"{base}.{alias.name}" for alias in child.names]
                found.extend((t, child.lineno, in_function) for t in targets)
            elif isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, in_function) for alias in child.names)
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(tree, False)
    return found


def engine_files() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def test_the_engine_never_imports_nn():
    for path in engine_files():
        for target, line, _ in runtime_imports(path):
            assert target.split(".")[0] != "nn", f"{path.relative_to(ROOT)}:{line} imports {target}"


def test_imports_form_no_cycle_none_reaches_back_into_tensor_py_and_lazy_ones_say_why():
    modules = {module_name(p): p for p in engine_files()}
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for target, line, lazy in runtime_imports(path):
            while target and target not in modules:  # `from .x import name` names module x
                target = target.rpartition(".")[0]
            if not target or target == name or name.startswith(target + "."):
                continue  # not ours, or a package importing its own parent (its __init__ is running anyway)
            where = f"{path.relative_to(ROOT)}:{line}"
            if lazy:  # runs after both modules are loaded: not an edge of the import-time graph
                assert "#" in lines[line - 1], f"{where}: a lazy import needs its reason written next to it"
                assert target != "tinygrad_edu.tensor", f"{where}: a lazy import of tensor.py (a back-edge into it)"
            else:
                edges[name].add(target)

    def visit(name: str, trail: list[str]) -> None:
        assert name not in trail, "import cycle: " + " -> ".join([*trail[trail.index(name) :], name])
        for target in edges[name]:
            if target.startswith(name + "."):  # a package importing its own submodules is not a cycle
                continue
            visit(target, [*trail, name])

    for name in modules:
        visit(name, [])


def test_importing_the_engine_loads_neither_graphviz_nor_nn_until_a_drawing_is_asked_for():
    code = (
        "import sys, tinygrad_edu as tg\n"
        "print('graphviz' in sys.modules, 'nn' in sys.modules)\n"
        "w = tg.Tensor([1.0], requires_grad=True)\n"
        "tg.to_dot((w * w).sum())\n"
        "print('graphviz' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.split() == ["False", "False", "True"]
