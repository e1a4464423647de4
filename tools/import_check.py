"""Which scanstation module imports which, and where that breaks the layering.

    python tools/import_check.py            # print violations and cycles
    python tools/import_check.py --json     # the same as JSON

Rules (docs/architecture.md): only ui/ imports Qt or ui/; only cli/ imports cli/; only web/ imports web/;
storage/ imports nothing of the domain (only storage/ and the base: errors, i18n, clock); and no import
cycle between modules (imports inside functions count: they are cycles all the same, only deferred).
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "scanstation"
BASE = {"scanstation.errors", "scanstation.i18n", "scanstation.clock"}
SHELLS = ("scanstation.ui", "scanstation.cli", "scanstation.web")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """scanstation modules imported anywhere in the file (resolved to the longest known module name)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            targets = [node.args[0].value]
        for target in targets:
            if target.startswith("PySide6"):
                found.add("PySide6")
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    return {name: imports_of(path, modules) for name, path in sorted(files.items())}


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def layer_violations(g: dict[str, set[str]]) -> list[str]:
    out = []
    for module, targets in g.items():
        for target in sorted(targets):
            if target == "PySide6" and not in_package(module, "scanstation.ui"):
                out.append(f"{module} -> PySide6")
            for shell in SHELLS:
                if in_package(target, shell) and not in_package(module, shell):
                    out.append(f"{module} -> {target}")
            if (
                in_package(module, "scanstation.storage")
                and target != "PySide6"
                and not in_package(target, "scanstation.storage")
                and target not in BASE
                and target != "scanstation"
            ):
                out.append(f"{module} -> {target}")
    return out


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in g.get(v, ()):
            if w not in g:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in g:
        if v not in index:
            visit(v)
    return sorted(result)


def main(argv: list[str]) -> int:
    g = graph()
    report = {"violations": layer_violations(g), "cycles": cycles(g)}
    if "--json" in argv:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        for line in report["violations"]:
            print("upward import:", line)
        for component in report["cycles"]:
            print("cycle:", " ".join(component))
    return 1 if report["violations"] or report["cycles"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
