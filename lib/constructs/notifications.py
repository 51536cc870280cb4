"""The one SNS topic every alert and cutover transition goes to, encrypted with the project key."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from constructs import Construct


class Notifications(Construct):
    def __init__(self, scope: Construct, id_: str, *, prefix: str, kms_key_arn: str) -> None:
        super().__init__(scope, id_)
        self.topic = SnsTopic(self, "topic", name=f"{prefix}-migration-events", kms_master_key_id=kms_key_arn)
