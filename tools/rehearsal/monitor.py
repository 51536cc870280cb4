"""Once a second: measure the replication's lag, publish it as the DMS task's CloudWatch metrics, sample the weights.

The metrics go to the emulator's CloudWatch as namespace AWS/DMS, CDCLatencySource and
CDCLatencyTarget, with the deployed task's dimensions (ReplicationInstanceIdentifier = the Lambda's
DMS_REPLICATION_INSTANCE_ID, ReplicationTaskIdentifier = the last ':' part of DMS_REPLICATION_ARN):
exactly the series the cutover's gates read. A real account refuses PutMetricData into AWS/ names;
the emulator accepts it, which is why the rehearsal runs against the emulator only.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tap_cutover.ports import AURORA_SET_ID, LivePair
from tap_cutover.settings import Settings

from tools.rehearsal.replication import LagSample, Meter
from tools.rehearsal.timeline import Timeline

INTERVAL_SECONDS = 1.0


def metric_dimensions(settings: Settings) -> list[dict[str, str]]:
    if settings.dms_replication_instance_id is None:
        raise ValueError("the rehearsal publishes a DMS task's metrics; this stack uses DMS Serverless (no instance)")
    return [
        {"Name": "ReplicationInstanceIdentifier", "Value": settings.dms_replication_instance_id},
        {"Name": "ReplicationTaskIdentifier", "Value": settings.dms_resource_id},
    ]


def publish_lag(cloudwatch: Any, settings: Settings, sample: LagSample) -> int:
    """PutMetricData for the sample's values (a value that could not be measured is not published: missing = red)."""
    dimensions = metric_dimensions(settings)
    stamp = datetime.fromtimestamp(sample.at, tz=UTC)
    data = [
        {"MetricName": name, "Dimensions": dimensions, "Timestamp": stamp, "Value": value, "Unit": "Seconds"}
        for name, value in (("CDCLatencySource", sample.source_s), ("CDCLatencyTarget", sample.target_s))
        if value is not None
    ]
    if data:
        cloudwatch.put_metric_data(Namespace="AWS/DMS", MetricData=data)
    return len(data)


def datapoints_between(cloudwatch: Any, settings: Settings, start: float, end: float) -> int:
    """How many CDC latency datapoints of the task the emulator holds with a timestamp in [start, end)."""
    begin, finish = datetime.fromtimestamp(int(start), tz=UTC), datetime.fromtimestamp(int(end), tz=UTC)
    if begin >= finish:
        return 0
    found = 0
    for name in ("CDCLatencySource", "CDCLatencyTarget"):
        answer = cloudwatch.get_metric_statistics(
            Namespace="AWS/DMS",
            MetricName=name,
            Dimensions=metric_dimensions(settings),
            StartTime=begin,
            EndTime=finish,
            Period=max(60, int(finish.timestamp() - begin.timestamp()) // 60 * 60 + 60),
            Statistics=["SampleCount"],
        )
        found += sum(int(point.get("SampleCount", 0)) for point in answer.get("Datapoints", []))
    return found


def own_period_end(cloudwatch: Any, settings: Settings, first_sample_at: float) -> float:
    """End of the first metric period whose datapoints are all this run's (epoch seconds).

    The emulator keeps earlier runs' datapoints under the same dimensions: the period holding the first
    measured lag counts only if nothing was published in it before; otherwise the next period does.
    """
    period = settings.metric_period_seconds
    begins = math.floor(first_sample_at / period) * period
    if datapoints_between(cloudwatch, settings, begins, first_sample_at) > 0:
        begins += period
    return float(begins + period)


def aurora_weight(live: LivePair | None) -> int | None:
    record = live.records.get(AURORA_SET_ID) if live is not None else None
    return record.weight if record is not None else None


class Monitor:
    """A thread: lag -> timeline + CloudWatch, live weights -> timeline, every second until stopped."""

    def __init__(
        self,
        meter: Meter | None,
        cloudwatch: Any,
        settings: Settings,
        read_weights: Callable[[], dict[str, LivePair]],
        timeline: Timeline,
    ) -> None:
        self._meter = meter
        self._cloudwatch = cloudwatch
        self._settings = settings
        self._read_weights = read_weights
        self._timeline = timeline
        self.samples: list[LagSample] = []
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rehearsal-monitor", daemon=True)

    def measure(self, meter: Meter | None) -> None:
        """Switch to another replication (the reverse one after the flip), or None to stop measuring."""
        with self._lock:
            if self._meter is not None and self._meter is not meter:
                self._meter.close()
            self._meter = meter

    def start(self) -> Monitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self.measure(None)

    def latest(self) -> LagSample | None:
        with self._lock:
            return self.samples[-1] if self.samples else None

    def own_period_end(self, first_sample_at: float) -> float:
        return own_period_end(self._cloudwatch, self._settings, first_sample_at)

    def wait_for_first_sample(self, timeout_s: float) -> float | None:
        """When the first lag was measured (waiting up to `timeout_s` for it), or None."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                if self.samples:
                    return self.samples[0].at
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.once()
            next_at += INTERVAL_SECONDS
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def once(self) -> None:
        with self._lock:
            meter = self._meter
            try:
                if meter is not None:
                    sample = meter.measure()
                    self.samples.append(sample)
                    self._timeline.lag(sample.source_s, sample.target_s, sample.at)
                    publish_lag(self._cloudwatch, self._settings, sample)
            except Exception as error:  # one bad second is reported, the next second measures again
                self.failures.append(f"{time.time():.0f} lag: {type(error).__name__}: {error}")
        try:
            live = self._read_weights()
            self._timeline.weights(aurora_weight(live.get("reader")), aurora_weight(live.get("writer")))
        except Exception as error:
            self.failures.append(f"{time.time():.0f} weights: {type(error).__name__}: {error}")
