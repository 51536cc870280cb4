"""The rehearsal's timeline as a PNG: four panels over time, numbered events, legends beside the data.

Panels: writes/s and reads/s per database; client errors/s; the measured lag with the gates'
thresholds; the Aurora weight of both record pairs with the share of reads Aurora served. Every
event is a dashed line through all panels with its number on the top panel's edge. Events closer
together than a label's width (the fence's: fence proven, drain reached, sequences synced, reverse
started, writer flipped, within a few seconds) share one label ("4-8"); the list under the panels
gives every number its time and name, and inside a group the offset from the group's first event.
Each panel's legend stands in a column of its own to the right, so no legend covers a trace. When
the lag stops being measured before the end (the replication was stopped at a rollback), the end of
the trace says so.

Only the picture needs matplotlib (the driver imports this module when it draws). Engine-neutral:
it draws a Timeline and the labels it is given, nothing about a database engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from tools.rehearsal.timeline import (
    READ_ERROR,
    READ_OK,
    WRITE_ACKED,
    WRITE_DUPLICATE_KEY,
    WRITE_IN_DOUBT,
    WRITE_REFUSED,
    Second,
    Timeline,
    series,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# A label needs about this share of the time axis; events closer than that share one label.
LABEL_SHARE_OF_AXIS = 0.025
EVENT_LIST_COLUMNS = 2
LAG_LINEAR_UP_TO_S = 1.0  # the lag axis is linear up to 1 s, logarithmic above (sub-second lag and a 30 s threshold)
LAG_TICKS_S = (0, 0.5, 1, 2, 5, 10, 30, 100, 300, 1000, 3000)
ZOOM_MARGIN_SHARE = 0.15  # the zoom shows the busiest group and this share of its width on either side
UNEXPLAINED_LAG_END_S = 3.0  # a trace that ends this long before the run without a reason gets a plain note


@dataclass(frozen=True)
class NumberedEvent:
    number: int
    t: float  # seconds since the timeline started
    name: str


@dataclass(frozen=True)
class Drawing:
    """The figure and its parts by role (what the tests inspect)."""

    figure: Figure
    panels: dict[str, Axes]  # writes, errors, lag, weights
    legends: dict[str, Axes]  # the legend column's axes, one per panel
    event_list: Axes
    zoom: Axes  # the busiest group of events on its own time axis (off when no two events are that close)


def readable(name: str) -> str:
    """An evidence name ("fence_proven") as people read it ("fence proven")."""
    return name.replace("_", " ")


def numbered_events(timeline: Timeline) -> list[NumberedEvent]:
    """Every event in time order, numbered from 1, in seconds since the timeline started."""
    ordered = sorted(timeline.events)
    return [NumberedEvent(n, at - timeline.started_at, readable(name)) for n, (at, name) in enumerate(ordered, start=1)]


def label_groups(events: Sequence[NumberedEvent], min_gap_s: float) -> list[list[NumberedEvent]]:
    """Consecutive events closer than `min_gap_s` to the previous one share a label (events in time order)."""
    groups: list[list[NumberedEvent]] = []
    for event in events:
        if groups and event.t - groups[-1][-1].t < min_gap_s:
            groups[-1].append(event)
        else:
            groups.append([event])
    return groups


def group_label(group: Sequence[NumberedEvent]) -> str:
    return str(group[0].number) if len(group) == 1 else f"{group[0].number}-{group[-1].number}"


def event_lines(groups: Sequence[Sequence[NumberedEvent]]) -> list[str]:
    """'n  t s  name', with '(+d s)' after every event of a group but its first."""
    lines = []
    for group in groups:
        for event in group:
            offset = f"  (+{event.t - group[0].t:.2f} s)" if event is not group[0] else ""
            lines.append(f"{event.number:>2}  {event.t:7.2f} s  {event.name}{offset}")
    return lines


def aurora_read_share(rows: Sequence[tuple[int, Second]], aurora: str, others: Sequence[str]) -> list[float | None]:
    """Per second, the percentage of successful reads that Aurora served (None in a second without reads)."""
    shares: list[float | None] = []
    for _, second in rows:
        on_aurora = second.counts.get(f"{READ_OK}:{aurora}", 0)
        total = on_aurora + sum(second.counts.get(f"{READ_OK}:{other}", 0) for other in others)
        shares.append(100.0 * on_aurora / total if total else None)
    return shares


def _gaps(values: Sequence[float | None]) -> list[float]:
    """None (not measured) as NaN: matplotlib leaves a gap there."""
    return [math.nan if value is None else float(value) for value in values]


def _sum_series(rows: list[tuple[int, Second]], name: str, databases: Sequence[str]) -> list[int]:
    return [sum(values) for values in zip(*(series(rows, f"{name}:{d}") for d in databases), strict=True)]


def _writes_panel(axis: Axes, rows: list[tuple[int, Second]], xs: list[int], databases: Mapping[str, str]) -> None:
    for database, label in databases.items():
        axis.plot(xs, series(rows, f"{WRITE_ACKED}:{database}"), label=f"acknowledged writes/s on {label}")
        axis.plot(xs, series(rows, f"{READ_OK}:{database}"), linestyle=":", label=f"reads/s on {label}")
    axis.set_ylabel("per second")


def _errors_panel(axis: Axes, rows: list[tuple[int, Second]], xs: list[int], databases: Mapping[str, str]) -> None:
    axis.plot(xs, _sum_series(rows, WRITE_REFUSED, list(databases)), label="refused writes/s (client saw an error)")
    axis.plot(xs, series(rows, WRITE_IN_DOUBT), label="in-doubt commits/s")
    axis.plot(xs, _sum_series(rows, WRITE_DUPLICATE_KEY, list(databases)), label="duplicate-key errors/s")
    axis.plot(xs, series(rows, READ_ERROR), linestyle=":", label="read errors/s")
    axis.set_ylim(bottom=0)
    axis.set_ylabel("client errors")


def _lag_panel(axis: Axes, timeline: Timeline, rows: list[tuple[int, Second]], thresholds: Mapping[str, float]) -> None:
    xs = [index for index, _ in rows]
    axis.plot(xs, _gaps([s.lag_source_s for _, s in rows]), label="CDCLatencySource (measured)")
    axis.plot(xs, _gaps([s.lag_target_s for _, s in rows]), label="CDCLatencyTarget (measured)")
    for (label, value), color in zip(thresholds.items(), ("tab:red", "tab:purple", "tab:brown"), strict=False):
        axis.axhline(value, color=color, linestyle="--", linewidth=1.2, label=label)
    axis.set_yscale("symlog", linthresh=LAG_LINEAR_UP_TO_S)
    measured = [v for _, s in rows for v in (s.lag_source_s, s.lag_target_s) if v is not None]
    top = max([*measured, *thresholds.values(), LAG_LINEAR_UP_TO_S])
    axis.set_ylim(0, top * 2)
    axis.set_yticks([tick for tick in LAG_TICKS_S if tick <= top * 2])
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_ylabel("lag (s)")
    _explain_lag_end(axis, timeline, rows)


def _explain_lag_end(axis: Axes, timeline: Timeline, rows: list[tuple[int, Second]]) -> None:
    """Where the lag trace stops before the run ends, a note at its end says why (or that nothing was measured)."""
    measured = [(index, s) for index, s in rows if s.lag_source_s is not None or s.lag_target_s is not None]
    if not measured or not rows:
        return
    last_index, last = measured[-1]
    stopped = timeline.lag_stopped
    if stopped is None and rows[-1][0] - last_index < UNEXPLAINED_LAG_END_S:
        return
    reason = stopped[1] if stopped is not None else "no replication measured after this"
    value = max(v for v in (last.lag_source_s, last.lag_target_s) if v is not None)
    axis.annotate(
        f"lag not measured after {last_index} s:\n{reason}",
        xy=(last_index, value),
        xytext=(-12, 36),
        textcoords="offset points",
        ha="right",
        fontsize="x-small",
        arrowprops={"arrowstyle": "->", "color": "grey"},
        bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "grey", "alpha": 0.9},
    )


def _weights_panel(axis: Axes, rows: list[tuple[int, Second]], xs: list[int], databases: Mapping[str, str]) -> None:
    axis.step(xs, _gaps([s.reader_weight for _, s in rows]), where="post", label="reader.<domain> weight on Aurora (%)")
    axis.step(xs, _gaps([s.writer_weight for _, s in rows]), where="post", label="writer.<domain> weight on Aurora (%)")
    names = list(databases)
    if len(names) > 1:
        share = aurora_read_share(rows, names[-1], names[:-1])
        axis.plot(xs, _gaps(share), linestyle="", marker=".", markersize=3, label="reads Aurora served (%, measured)")
    axis.set_ylabel("Aurora (%)")
    axis.set_ylim(-5, 105)
    axis.set_xlabel("seconds since the workload started")


def _mark_events(panels: Sequence[Axes], groups: Sequence[Sequence[NumberedEvent]]) -> None:
    top = panels[0]
    for group in groups:
        for event in group:
            for axis in panels:
                axis.axvline(event.t, color="grey", linestyle="--", linewidth=0.7)
        middle = (group[0].t + group[-1].t) / 2
        top.annotate(
            group_label(group),
            (middle, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize="small",
            fontweight="bold",
            gid="event-number",
        )


def _zoom(axis: Axes, groups: Sequence[Sequence[NumberedEvent]]) -> None:
    """The busiest group of events (the fence's) on its own time axis, each event at its exact time with its number."""
    busiest = max(groups, key=len, default=[])
    if len(busiest) < 2:
        axis.axis("off")
        return
    first, last = busiest[0].t, busiest[-1].t
    margin = max((last - first) * ZOOM_MARGIN_SHARE, 0.05)
    axis.set_xlim(first - margin, last + margin)
    axis.set_ylim(0, len(busiest) + 1)
    axis.set_yticks([])
    circle = {"boxstyle": "circle,pad=0.15", "facecolor": "white", "edgecolor": "grey"}
    for row, event in enumerate(busiest, start=1):  # one row each, so numbers a fraction of a second apart stay apart
        axis.axvline(event.t, color="grey", linestyle="--", linewidth=0.7)
        axis.annotate(
            str(event.number), (event.t, row), ha="center", va="center", fontsize="small", fontweight="bold", bbox=circle
        )
    axis.set_title(f"zoom: events {group_label(busiest)} within {last - first:.2f} s", fontsize="small")
    axis.set_xlabel("seconds since the workload started", fontsize="x-small")
    axis.tick_params(labelsize="x-small")


def _event_list(axis: Axes, lines: Sequence[str]) -> None:
    axis.axis("off")
    per_column = max(1, math.ceil(len(lines) / EVENT_LIST_COLUMNS))
    axis.text(0.0, 1.0, "events (numbers on the time axis)", fontsize="small", fontweight="bold", va="top")
    for column in range(EVENT_LIST_COLUMNS):
        chunk = lines[column * per_column : (column + 1) * per_column]
        if chunk:
            text = "\n".join(chunk)
            axis.text(column / EVENT_LIST_COLUMNS, 0.84, text, family="monospace", fontsize="small", va="top", gid="event-list")


def draw(
    timeline: Timeline, databases: Mapping[str, str], title: str, *, thresholds: Mapping[str, float] | None = None
) -> Drawing:
    """The figure, not yet saved. `databases`: series key -> label, Aurora's last; `thresholds`: label -> lag seconds."""
    rows = timeline.snapshot()
    xs = [index for index, _ in rows]
    events = numbered_events(timeline)
    span = max([*xs, *(event.t for event in events), 1.0])
    groups = label_groups(events, span * LABEL_SHARE_OF_AXIS)
    lines = event_lines(groups)
    list_height = max(1.6, 0.3 + 0.19 * math.ceil(len(lines) / EVENT_LIST_COLUMNS))
    figure = Figure(figsize=(14, 11.5 + list_height), layout="constrained")
    grid = figure.add_gridspec(5, 2, width_ratios=(4.2, 1.4), height_ratios=(3, 2, 2.2, 2.2, list_height))
    writes = figure.add_subplot(grid[0, 0])
    panels = {"writes": writes}
    for row, name in enumerate(("errors", "lag", "weights"), start=1):
        panels[name] = figure.add_subplot(grid[row, 0], sharex=writes)
    _writes_panel(panels["writes"], rows, xs, databases)
    _errors_panel(panels["errors"], rows, xs, databases)
    _lag_panel(panels["lag"], timeline, rows, thresholds or {})
    _weights_panel(panels["weights"], rows, xs, databases)
    _mark_events(list(panels.values()), groups)
    legends = {}
    for row, (name, panel) in enumerate(panels.items()):
        holder = figure.add_subplot(grid[row, 1])
        holder.axis("off")
        holder.legend(*panel.get_legend_handles_labels(), loc="center left", fontsize="small", frameon=False)
        legends[name] = holder
    event_list = figure.add_subplot(grid[4, 0])
    _event_list(event_list, lines)
    zoom = figure.add_subplot(grid[4, 1])
    _zoom(zoom, groups)
    figure.suptitle(title)
    return Drawing(figure, panels, legends, event_list, zoom)


def render_png(
    timeline: Timeline, path: Path, databases: Mapping[str, str], title: str, *, thresholds: Mapping[str, float] | None = None
) -> Path:
    """Draw the timeline (see `draw`) and write it as a PNG at `path`."""
    drawing = draw(timeline, databases, title, thresholds=thresholds)
    path.parent.mkdir(parents=True, exist_ok=True)
    drawing.figure.savefig(path, dpi=100)
    return path
