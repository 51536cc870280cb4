"""Typed CloudWatch dashboard widgets rendered to the dashboard body document.

CloudWatch wants each metric as one flat array: `[namespace, name, dim1, value1, ..., {options}]`.
Seed 004 nested the dimensions in an object and the API rejected the dashboard; building the
arrays here, from typed values, makes that mistake impossible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

WIDGET_WIDTH = 12
WIDGET_HEIGHT = 6
GRID_COLUMNS = 24


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: Mapping[str, str]
    stat: str = "Average"
    label: str = ""

    def to_array(self) -> list[Any]:
        array: list[Any] = [self.namespace, self.name]
        for key, value in self.dimensions.items():
            array += [key, value]
        options: dict[str, Any] = {"stat": self.stat}
        if self.label:
            options["label"] = self.label
        return [*array, options]


@dataclass(frozen=True)
class MetricWidget:
    title: str
    metrics: Sequence[Metric]
    period: int = 60
    stacked: bool = False
    annotations: Sequence[tuple[str, float]] = field(default_factory=tuple)

    def properties(self, region: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": self.title,
            "region": region,
            "view": "timeSeries",
            "stacked": self.stacked,
            "period": self.period,
            "metrics": [metric.to_array() for metric in self.metrics],
        }
        if self.annotations:
            body["annotations"] = {"horizontal": [{"label": label, "value": value} for label, value in self.annotations]}
        return body


@dataclass(frozen=True)
class TextWidget:
    markdown: str


def dashboard_document(widgets: Sequence[MetricWidget | TextWidget], region: str) -> dict[str, Any]:
    """Lay widgets out two per row; the construct encodes the result with Terraform's jsonencode."""
    rendered: list[dict[str, Any]] = []
    for index, widget in enumerate(widgets):
        x = (index % (GRID_COLUMNS // WIDGET_WIDTH)) * WIDGET_WIDTH
        y = (index // (GRID_COLUMNS // WIDGET_WIDTH)) * WIDGET_HEIGHT
        position = {"x": x, "y": y, "width": WIDGET_WIDTH, "height": WIDGET_HEIGHT}
        if isinstance(widget, TextWidget):
            rendered.append({"type": "text", **position, "properties": {"markdown": widget.markdown}})
        else:
            rendered.append({"type": "metric", **position, "properties": widget.properties(region)})
    return {"widgets": rendered}
