"""The structured log line every component writes (CloudWatch Logs keeps one JSON object per line)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def emit_json(record: Mapping[str, Any]) -> None:
    """One JSON object per line on stdout: CloudWatch Logs keeps it as one structured event."""
    print(json.dumps(record, default=str, separators=(",", ":")), flush=True)
