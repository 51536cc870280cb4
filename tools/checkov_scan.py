"""Run the pinned checkov (its own venv, tools/checkov) on a synthesized stack and apply reviewed suppressions.

.venv/bin/python -m tools.checkov_scan [cdk.tf.json]   # prints the summary; exit 1 on unsuppressed failures
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lib.policy.suppressions import Suppression, load_suppressions

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHECKOV = PROJECT_ROOT / "tools" / "checkov" / ".venv" / "bin" / "checkov"
SUPPRESSIONS = PROJECT_ROOT / "tools" / "checkov" / "suppressions.toml"
DEFAULT_STACK = PROJECT_ROOT / "cdktf.out" / "stacks" / "tap-migrate" / "cdk.tf.json"
# Top-level blocks checkov 3.3's terraform_json parser cannot read (a list of `moved` blocks is a parsing
# error there, though Terraform accepts it). They move state between addresses and configure nothing,
# so the scan reads the stack without them.
UNSCANNED_BLOCKS = ("moved",)


@dataclass(frozen=True)
class ScanResult:
    passed: int
    failed: list[tuple[str, str, str]]  # (check id, resource, name) not suppressed
    suppressed: list[tuple[str, str]]
    stale: list[Suppression]


def load_skips(path: Path = SUPPRESSIONS) -> list[Suppression]:
    """The reviewed checkov findings: `[[skip]]` entries with a check id, a resource glob and why."""
    return load_suppressions(path, table="skip", id_key="check")


def scan(stack_file: Path, skips: list[Suppression] | None = None) -> ScanResult:
    skips = load_skips() if skips is None else skips
    if not CHECKOV.exists():
        raise FileNotFoundError(f"{CHECKOV} is missing: run ./tap setup (it installs tools/checkov/Pipfile.lock)")
    stack = json.loads(stack_file.read_text(encoding="utf-8"))
    if not any(block in stack for block in UNSCANNED_BLOCKS):
        return _scan(stack_file, stack_file, skips)
    with tempfile.TemporaryDirectory(prefix="tap-checkov-") as folder:
        readable = Path(folder) / stack_file.name
        readable.write_text(json.dumps({k: v for k, v in stack.items() if k not in UNSCANNED_BLOCKS}), encoding="utf-8")
        return _scan(readable, stack_file, skips)


def _scan(readable: Path, stack_file: Path, skips: list[Suppression]) -> ScanResult:
    """checkov on `readable` (the stack as checkov can parse it); errors name `stack_file`."""
    completed = subprocess.run(
        [
            str(CHECKOV),
            "-f",
            str(readable),
            "--framework",
            "terraform_json",
            "--quiet",
            "--compact",
            "--skip-download",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if completed.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed ({completed.returncode}): {completed.stderr[-2000:]}")
    reports = json.loads(completed.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    passed = sum(r["summary"]["passed"] for r in reports)
    failed_checks = [(f["check_id"], f["resource"], f["check_name"]) for r in reports for f in r["results"]["failed_checks"]]
    if any(r["summary"]["parsing_errors"] for r in reports):
        raise RuntimeError(f"checkov could not parse {stack_file}")
    used: set[Suppression] = set()
    failed, suppressed = [], []
    for check_id, resource, name in failed_checks:
        skip = next((s for s in skips if s.matches(check_id, resource)), None)
        if skip is None:
            failed.append((check_id, resource, name))
        else:
            used.add(skip)
            suppressed.append((check_id, resource))
    return ScanResult(passed, failed, suppressed, [s for s in skips if s not in used])


def main() -> int:
    stack_file = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_STACK
    result = scan(stack_file)
    print(f"checkov: {result.passed} passed, {len(result.failed)} failed, {len(result.suppressed)} suppressed (reviewed)")
    for check_id, resource, name in result.failed:
        print(f"  FAILED {check_id} {resource}: {name}")
    for skip in result.stale:
        print(f"  STALE suppression {skip.rule} {skip.resource}")
    return 1 if result.failed or result.stale else 0


if __name__ == "__main__":
    sys.exit(main())
