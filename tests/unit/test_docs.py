"""The README stays a user's page (short, links that work); maintainer material lives in docs/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lib.config import PROJECT_ROOT

PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def test_the_readme_is_short() -> None:
    lines = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 250, f"README.md has {lines} lines; move maintainer material to docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = [
        target
        for target, _ in LINK.findall(page.read_text(encoding="utf-8"))
        if "://" not in target and not target.startswith("mailto:") and not (page.parent / target).exists()
    ]
    assert not broken, f"{page.relative_to(PROJECT_ROOT)} links to missing files: {broken}"


def test_readme_sample_output_carries_no_stale_counts() -> None:
    # Counts drift with every resource added; the sample shows <N>-style stand-ins instead of numbers.
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert not re.search(r"Resources: \d+ added|\(\d+ keys\)", text)
