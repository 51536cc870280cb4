"""The one SNS topic every alarm, DMS event and cutover transition goes to, encrypted with the project key."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from lib.constructs.context import StackContext
from lib.constructs.policy_documents import document, statement

# Services that publish alerts to the topic; each only on behalf of this account.
PUBLISHING_SERVICES = ("cloudwatch", "events", "dms")


class Notifications(Construct):
    def __init__(self, scope: Construct, id_: str, *, context: StackContext, alarm_email: str) -> None:
        super().__init__(scope, id_)
        prefix = context.prefix
        account_id = context.account_id
        kms_key_arn = context.kms_key_arn
        self.topic = SnsTopic(self, "topic", name=f"{prefix}-migration-events", kms_master_key_id=kms_key_arn)
        SnsTopicPolicy(
            self,
            "policy",
            arn=self.topic.arn,
            policy=document(
                self,
                "topic-policy",
                statement(
                    "ServicesPublishForThisAccount",
                    ["sns:Publish"],
                    [self.topic.arn],
                    principal={"Service": [context.service_principal(service) for service in PUBLISHING_SERVICES]},
                    condition={"StringEquals": {"aws:SourceAccount": account_id}},
                ),
            ),
        )
        if alarm_email:
            # Email subscriptions stay pending until the recipient confirms; Terraform cannot confirm them.
            SnsTopicSubscription(self, "email", topic_arn=self.topic.arn, protocol="email", endpoint=alarm_email)
