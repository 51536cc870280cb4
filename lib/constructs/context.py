"""What every construct of one stack shares: its names, where it lives, its key and log retention.

`TapStack` builds one `StackContext` and hands it to each construct with that construct's own slice
of the config. ARNs and service principals are built here and nowhere else, so a partition other
than `aws` (aws-cn, aws-us-gov) changes one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StackContext:
    prefix: str  # e.g. tap-migrate-dev: every resource name starts with it
    partition: str  # a Terraform reference to the partition (aws, aws-cn, aws-us-gov)
    dns_suffix: str  # the partition's DNS suffix (amazonaws.com, amazonaws.com.cn)
    region: str
    account_id: str  # a Terraform reference to the caller's account
    kms_key_arn: str  # the stack's customer managed key ("" only while the key itself is built)
    log_retention_days: int

    def service_principal(self, service: str, *, regional: bool = False) -> str:
        """`dms.amazonaws.com`, or with `regional` `dms.us-east-1.amazonaws.com` (DMS secrets access, logs)."""
        return f"{service}.{self.region}.{self.dns_suffix}" if regional else f"{service}.{self.dns_suffix}"

    def via_service(self, service: str) -> str:
        """The value of a `kms:ViaService` condition for `service` in this region."""
        return self.service_principal(service, regional=True)

    def arn(self, service: str, resource: str, *, regional: bool = True, in_account: bool = True) -> str:
        """`arn:<partition>:<service>:<region>:<account>:<resource>`; global services leave region and/or account empty."""
        region = self.region if regional else ""
        account = self.account_id if in_account else ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def managed_policy_arn(self, name: str) -> str:
        """An AWS managed policy, e.g. `service-role/AWSBackupServiceRolePolicyForBackup`."""
        return f"arn:{self.partition}:iam::aws:policy/{name}"
