"""CDC resume (issue 17 item 3): a task created at a recorded checkpoint continues there instead of reloading.

`dms.tasks.<key>.cdc_start_position` reaches the task's `cdc_start_position`; a value with whitespace (a
pasted line, not a checkpoint) is refused naming the field.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from lib.config import ConfigError

from .conftest import config_from, resources, synthesize

CHECKPOINT = "checkpoint:V1#34#0/3E000B08:0/3E000B08#0#0#*#0#121"


def main_task(stack: dict[str, Any]) -> dict[str, Any]:
    [task] = [body for name, body in resources(stack, "aws_dms_replication_task").items() if name.startswith("dms_task-main")]
    return task


def test_the_recorded_position_reaches_the_task() -> None:
    config = config_from({"dms": {"tasks": {"main": {"migration_type": "cdc", "cdc_start_position": CHECKPOINT}}}})
    task = main_task(json.loads(synthesize(config)))
    assert task["cdc_start_position"] == CHECKPOINT
    assert task["migration_type"] == "cdc"


def test_without_a_position_the_task_has_none(stack_json: dict[str, Any]) -> None:
    assert "cdc_start_position" not in main_task(stack_json)


def test_a_pasted_line_is_not_a_position() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from({"dms": {"tasks": {"main": {"migration_type": "cdc", "cdc_start_position": f"{CHECKPOINT} # main"}}}})
    assert any(p.startswith("dms.tasks.main.cdc_start_position:") for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"dms": {"tasks": {"main": {"cdc_start_position": CHECKPOINT}}}}, 'migration_type must be "cdc"'),
        (
            {"dms": {"serverless": True, "tasks": {"main": {"migration_type": "cdc", "cdc_start_position": CHECKPOINT}}}},
            "DMS Serverless takes no start position",
        ),
    ],
)
def test_a_position_the_task_cannot_use_is_refused(overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from(overrides)
    [problem] = caught.value.problems
    assert problem.startswith("dms.tasks.main.cdc_start_position: ") and expected in problem
