"""Constructors read as a list of parts, and no function in `lib/` runs on (issue 23, item 3).

Every `__init__` of a class in `lib/constructs/` is at most 60 lines, its parts in named private
builders (`_build_*`); no function or method in `lib/` is over 80 lines. Lines are counted from the
`def` to the function's last line (`end_lineno - lineno + 1`), docstring and comments included.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from lib.config import PROJECT_ROOT

CONSTRUCTOR_MAX_LINES = 60
FUNCTION_MAX_LINES = 80
LIB = PROJECT_ROOT / "lib"
CONSTRUCTS = LIB / "constructs"


def _functions(path: Path) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function in the file with its qualified name (`Class.method`, `outer.inner`)."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield f"{prefix}{child.name}", child
                yield from walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(ast.parse(path.read_text(encoding="utf-8")), "")


def _length(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    assert function.end_lineno is not None
    return function.end_lineno - function.lineno + 1


def _sources(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*.py") if "__pycache__" not in path.parts)


def test_every_construct_constructor_is_at_most_60_lines() -> None:
    long = [
        f"{path.relative_to(PROJECT_ROOT)}:{function.lineno} {name} is {_length(function)} lines"
        for path in _sources(CONSTRUCTS)
        for name, function in _functions(path)
        if name.endswith(".__init__") and _length(function) > CONSTRUCTOR_MAX_LINES
    ]
    assert not long, "\n".join(long)


def test_no_function_in_lib_is_over_80_lines() -> None:
    long = [
        f"{path.relative_to(PROJECT_ROOT)}:{function.lineno} {name} is {_length(function)} lines"
        for path in _sources(LIB)
        for name, function in _functions(path)
        if _length(function) > FUNCTION_MAX_LINES
    ]
    assert not long, "\n".join(long)


def test_the_counter_counts_from_def_to_the_last_line(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "class A:\n    def __init__(self) -> None:\n        x = 1\n\n        self.x = x\n\n\ndef f() -> None:\n    pass\n",
        encoding="utf-8",
    )
    assert {name: _length(function) for name, function in _functions(sample)} == {"A.__init__": 4, "f": 2}
