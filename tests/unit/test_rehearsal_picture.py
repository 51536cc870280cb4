"""The rehearsal's timeline picture, drawn from a made-up timeline (no servers): numbers, threshold, legends, notes."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.lines import Line2D
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

from tools.rehearsal.picture import (
    Drawing,
    NumberedEvent,
    aurora_read_share,
    draw,
    event_lines,
    group_label,
    label_groups,
    numbered_events,
    render_png,
)
from tools.rehearsal.timeline import READ_OK, WRITE_ACKED, Second, Timeline

START = 1_000.0
DATABASES = {"source": "source", "target": "target (Aurora)"}
THRESHOLDS = {"LATENCY_THRESHOLD_SECONDS 30 s (the gates)": 30.0, "DRAIN_THRESHOLD_SECONDS 1 s (before the flip)": 1.0}
# A rollback run as the rehearsal records it: five events of the fence within 3 s of a 300 s axis.
EVENTS = [
    (20.0, "initial copy done"),
    (55.0, "advance (start)"),
    (85.0, "write_fence (TTL lowered)"),
    (168.1, "fence_proven"),
    (168.5, "drain_reached"),
    (169.0, "sequences_synced"),
    (169.3, "reverse_started"),
    (170.9, "writer_flipped"),
    (230.0, "writer rolled back"),
]


def _timeline(*, lag_until: int = 230, lag_stop: str | None = None, seconds: int = 300) -> Timeline:
    timeline = Timeline(clock=lambda: START)
    for second in range(seconds):
        database = "source" if second < 170 or second >= 231 else "target"
        timeline.count(WRITE_ACKED, database, at=START + second, amount=200)
        on_aurora = 0 if second < 60 else min(50, second - 60)
        timeline.count(READ_OK, "target", at=START + second, amount=on_aurora)
        timeline.count(READ_OK, "source", at=START + second, amount=50 - on_aurora)
        if 20 <= second < lag_until:
            timeline.lag(0.2, 0.4, at=START + second)
        timeline.weights(0 if second < 60 else 100, 100 if 171 <= second < 230 else 0, at=START + second)
    for at, name in reversed(EVENTS):  # out of order on purpose: the picture sorts them
        timeline.event(name, at=START + at)
    if lag_stop is not None:
        timeline.lag_stop(lag_stop, at=START + lag_until)
    return timeline


@pytest.fixture(scope="module")
def drawing() -> Drawing:
    drawn = draw(_timeline(lag_stop="the rollback stopped the reverse replication"), DATABASES, "t", thresholds=THRESHOLDS)
    FigureCanvasAgg(drawn.figure).draw()  # lay out, so extents are final
    return drawn


def _texts(axis: Axes, gid: str | None = None) -> list[str]:
    return [text.get_text() for text in axis.texts if gid is None or text.get_gid() == gid]


def test_events_are_numbered_from_one_in_time_order() -> None:
    events = numbered_events(_timeline())
    assert [event.number for event in events] == list(range(1, len(EVENTS) + 1))
    assert [(round(event.t, 3), event.name) for event in events][3:5] == [(168.1, "fence proven"), (168.5, "drain reached")]


def test_events_closer_than_a_label_share_one_label_and_far_ones_do_not() -> None:
    groups = label_groups(numbered_events(_timeline()), min_gap_s=7.5)
    assert [group_label(group) for group in groups] == ["1", "2", "3", "4-8", "9"]
    assert label_groups([NumberedEvent(1, 0.0, "a"), NumberedEvent(2, 7.5, "b")], min_gap_s=7.5)[1][0].name == "b"


def test_the_event_list_gives_each_fence_event_its_offset_from_the_first() -> None:
    lines = event_lines(label_groups(numbered_events(_timeline()), min_gap_s=7.5))
    assert lines[3] == " 4   168.10 s  fence proven"
    assert lines[7] == " 8   170.90 s  writer flipped  (+2.80 s)"
    assert lines[8] == " 9   230.00 s  writer rolled back"


def test_numbers_stand_on_the_time_axis_and_the_list_names_every_event(drawing: Drawing) -> None:
    assert _texts(drawing.panels["writes"], "event-number") == ["1", "2", "3", "4-8", "9"]
    listed = "\n".join(_texts(drawing.event_list, "event-list"))
    for number, (at, name) in enumerate(EVENTS, start=1):
        assert f"{number:>2}  {at:7.2f} s  {name.replace('_', ' ')}" in listed
    # Every event has its line in every panel.
    for panel in drawing.panels.values():
        lines = {round(line.get_xdata()[0], 3) for line in panel.lines if line.get_linestyle() == "--" and _vertical(line)}
        assert lines == {at for at, _ in EVENTS}


def _vertical(line: Line2D) -> bool:
    xs = line.get_xdata()
    return len(xs) == 2 and xs[0] == xs[1]


def test_the_zoom_shows_the_fence_events_apart(drawing: Drawing) -> None:
    low, high = drawing.zoom.get_xlim()
    assert low < 168.1 and high > 170.9 and high - low < 4.0
    numbers = [text.get_text() for text in drawing.zoom.texts if isinstance(text, Annotation)]
    assert numbers == ["4", "5", "6", "7", "8"]
    assert "4-8" in drawing.zoom.get_title()


def test_the_lag_panel_draws_the_thresholds_from_the_config(drawing: Drawing) -> None:
    lag = drawing.panels["lag"]
    horizontal = {line.get_label(): set(line.get_ydata()) for line in lag.lines if len(set(line.get_ydata())) == 1}
    assert horizontal["LATENCY_THRESHOLD_SECONDS 30 s (the gates)"] == {30.0}
    assert horizontal["DRAIN_THRESHOLD_SECONDS 1 s (before the flip)"] == {1.0}
    assert lag.get_ylim()[1] > 30.0  # the threshold is inside the plot, not clipped at its edge


def test_without_thresholds_no_threshold_line_is_drawn() -> None:
    lag = draw(_timeline(), DATABASES, "t").panels["lag"]
    assert [line.get_label() for line in lag.lines if not _vertical(line)] == [
        "CDCLatencySource (measured)",
        "CDCLatencyTarget (measured)",
    ]


def test_legends_stand_beside_the_panels_never_over_data(drawing: Drawing) -> None:
    canvas = drawing.figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    renderer = canvas.get_renderer()
    panel_boxes = [panel.get_window_extent(renderer) for panel in drawing.panels.values()]
    for name, panel in drawing.panels.items():
        assert panel.get_legend() is None, f"the {name} panel draws its legend over its data"
        legend = drawing.legends[name].get_legend()
        assert legend is not None
        box = legend.get_window_extent(renderer)
        assert not any(Bbox.intersection(box, other) for other in panel_boxes), f"the {name} legend overlaps a panel"
        assert box.x0 >= max(other.x1 for other in panel_boxes)  # to the right of the panels
        labels = {text.get_text() for text in legend.get_texts()}
        assert labels == {label for label in panel.get_legend_handles_labels()[1]}
    assert "LATENCY_THRESHOLD_SECONDS 30 s (the gates)" in {t.get_text() for t in drawing.legends["lag"].get_legend().get_texts()}


def test_a_lag_trace_that_stops_says_why_at_its_end(drawing: Drawing) -> None:
    notes = [text for text in drawing.panels["lag"].texts if isinstance(text, Annotation)]
    assert len(notes) == 1
    assert notes[0].get_text() == "lag not measured after 229 s:\nthe rollback stopped the reverse replication"
    assert notes[0].xy[0] == 229


def test_a_lag_trace_to_the_end_has_no_note_and_an_unexplained_stop_gets_a_plain_one() -> None:
    assert not draw(_timeline(lag_until=300), DATABASES, "t").panels["lag"].texts
    plain: list[Text] = draw(_timeline(lag_until=200), DATABASES, "t").panels["lag"].texts
    assert [text.get_text() for text in plain] == ["lag not measured after 199 s:\nno replication measured after this"]


def test_the_read_share_is_what_aurora_served_of_the_successful_reads() -> None:
    rows = _timeline().snapshot()
    shares = aurora_read_share(rows, "target", ["source"])
    assert shares[0] == 0.0 and shares[85] == 50.0 and shares[299] == 100.0
    assert aurora_read_share([(0, Second())], "target", ["source"]) == [None]  # no reads that second: no share


def test_render_png_writes_a_png(tmp_path: Path) -> None:
    path = render_png(_timeline(), tmp_path / "deeper" / "timeline.png", DATABASES, "t", thresholds=THRESHOLDS)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
