"""The repository's layout keeps its arrows one way (docs/architecture.md, "Arrows that only go one way").

- The Lambda package (`lambda/cutover/tap_cutover`) imports nothing of the project outside itself: it
  ships alone in its zip, and its folder is exactly what the zip holds.
- The operator package (`tap_operator`) imports the Lambda package's core and `lib.config`, never
  `tools` or `tests`; `lib` imports neither `tools`, `tap_operator` nor `tests`.
- No import circles among the project's modules, counting every import statement (also those inside
  functions or under TYPE_CHECKING: a circle that is only deferred is still a circle for a reader).
- Benchmarks run without the tests' helpers.
"""

from __future__ import annotations

import ast
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lib.config import PROJECT_ROOT
from lib.constructs.cutover import LAMBDA_SOURCE_DIR
from lib.lambda_package import build_zip

LAMBDA_PACKAGE = PROJECT_ROOT / "lambda" / "cutover" / "tap_cutover"
# Top-level project packages, each with the folder its modules are named from.
ROOTS = {
    "tap_cutover": LAMBDA_PACKAGE.parent,
    "tap_operator": PROJECT_ROOT,
    "lib": PROJECT_ROOT,
    "tools": PROJECT_ROOT,
}
FORBIDDEN = {
    "tap_cutover": {"tap_operator", "lib", "tools", "tests", "benchmarks"},
    "tap_operator": {"tools", "tests", "benchmarks"},
    "lib": {"tap_operator", "tools", "tests", "benchmarks"},
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top, base in ROOTS.items():
        for path in sorted((base / top).rglob("*.py")):
            if any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(base).parts):
                continue
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every module `name` imports (absolute names), with the line, wherever the statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # `from pkg import mod` imports the module pkg.mod when there is one.
                yield (f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base), node.lineno


def _project_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for imported, _ in _imports(name, path):
            target = imported
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges[name].add(target)
    return edges


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_layer_may(package: str) -> None:
    wrong = [
        f"{MODULES[name].relative_to(PROJECT_ROOT)}:{line} imports {target}"
        for name in MODULES
        if name == package or name.startswith(f"{package}.")
        for target, line in _imports(name, MODULES[name])
        if target.split(".")[0] in FORBIDDEN[package]
    ]
    assert not wrong, "\n".join(wrong)


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components: each component of two or more modules is a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, set())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return circles


def test_no_import_circles() -> None:
    circles = _circles(_project_edges())
    assert not circles, f"import circles: {circles}"


def test_the_circle_detector_sees_circles_and_only_them(tmp_path: Path) -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
    fake = tmp_path / "m.py"
    fake.write_text("from .x import y\nimport os\n\ndef f() -> None:\n    from tools import z\n", encoding="utf-8")
    assert {target for target, _ in _imports("pkg.m", fake)} == {"pkg.x", "os", "tools"}


def test_the_zip_holds_exactly_the_lambda_package_folder(tmp_path: Path) -> None:
    archive = build_zip(LAMBDA_SOURCE_DIR, tmp_path / "cutover.zip")
    zipped = set(zipfile.ZipFile(archive).namelist())
    on_disk = {
        path.relative_to(LAMBDA_SOURCE_DIR).as_posix()
        for path in LAMBDA_SOURCE_DIR.rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".json", ".txt"}
        and not any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(LAMBDA_SOURCE_DIR).parts)
    }
    assert zipped == on_disk
    assert not any(name.startswith("tap_operator") for name in zipped)


def test_benchmarks_import_nothing_from_tests() -> None:
    wrong = [
        f"{path.relative_to(PROJECT_ROOT)}:{line}"
        for path in sorted((PROJECT_ROOT / "benchmarks").glob("*.py"))
        for target, line in _imports(f"benchmarks.{path.stem}", path)
        if target.split(".")[0] == "tests"
    ]
    assert not wrong, f"benchmarks import test helpers: {wrong}"
