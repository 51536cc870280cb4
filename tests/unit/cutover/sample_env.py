"""A complete, valid cutover Lambda environment as the stack would set it."""

from __future__ import annotations

CUTOVER_ENV: dict[str, str] = {
    "STATE_PARAMETER_NAME": "/tap-migrate/dev/cutover/state",
    "LOCK_PARAMETER_NAME": "/tap-migrate/dev/cutover/lock",
    "HOSTED_ZONE_ID": "Z0123456789ABCDEFGHIJ",
    "READER_RECORD_NAME": "reader.db.example.internal",
    "WRITER_RECORD_NAME": "writer.db.example.internal",
    "SOURCE_HOST": "onprem-pg.corp.example.com",
    "AURORA_READER_ENDPOINT": "tap.cluster-ro-abc123.us-east-1.rds.amazonaws.com",
    "AURORA_WRITER_ENDPOINT": "tap.cluster-abc123.us-east-1.rds.amazonaws.com",
    "RECORD_TTL": "60",
    "CUTOVER_TTL": "5",
    "DMS_REPLICATION_ARN": "arn:aws:dms:us-east-1:123456789012:task:ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "DMS_REPLICATION_INSTANCE_ID": "tap-migrate-dev",
    "AURORA_CLUSTER_ID": "tap-migrate-dev",
    "SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:tap-migrate-dev-cutover",
    "ALARM_NAME_PREFIX": "tap-migrate-dev-",
    "READ_STEPS": "10,25,50,100",
    "STEP_HOLD_SECONDS": "900",
    "LATENCY_THRESHOLD_SECONDS": "30",
    "LATENCY_PERIODS": "5",
    "METRIC_PERIOD_SECONDS": "60",
    "DRAIN_THRESHOLD_SECONDS": "1",
    "DRAIN_TIMEOUT_SECONDS": "600",
    "DRAIN_POLL_SECONDS": "5",
    "LOCK_TTL_SECONDS": "720",
}
