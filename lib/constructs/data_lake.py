"""The data lake behind s3 and kinesis targets: one KMS-encrypted bucket, its Glue catalog, an Athena workgroup.

DMS (s3 targets) and Firehose (kinesis targets) write into prefixes of the bucket; one Glue
crawler per crawled prefix keeps the catalog in step with what they write; Athena reads the
catalog through a workgroup that enforces encrypted results and a per-query scan limit.
Every writer gets a role scoped to its own prefix (`dms_writer_role`), never the whole bucket.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from cdktf_cdktf_provider_aws.athena_workgroup import (
    AthenaWorkgroup,
    AthenaWorkgroupConfiguration,
    AthenaWorkgroupConfigurationEngineVersion,
    AthenaWorkgroupConfigurationResultConfiguration,
    AthenaWorkgroupConfigurationResultConfigurationEncryptionConfiguration,
)
from cdktf_cdktf_provider_aws.glue_catalog_database import GlueCatalogDatabase
from cdktf_cdktf_provider_aws.glue_crawler import (
    GlueCrawler,
    GlueCrawlerRecrawlPolicy,
    GlueCrawlerS3Target,
    GlueCrawlerSchemaChangePolicy,
)
from cdktf_cdktf_provider_aws.glue_security_configuration import (
    GlueSecurityConfiguration,
    GlueSecurityConfigurationEncryptionConfiguration,
    GlueSecurityConfigurationEncryptionConfigurationCloudwatchEncryption,
    GlueSecurityConfigurationEncryptionConfigurationJobBookmarksEncryption,
    GlueSecurityConfigurationEncryptionConfigurationS3Encryption,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls, S3BucketOwnershipControlsRule
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from constructs import Construct

from lib.config import DataLakeConfig, TargetConfig
from lib.constructs.context import StackContext
from lib.constructs.policy_documents import RoleIds, document, service_role, statement

ATHENA_RESULTS_PREFIX = "athena-results"
ABORT_INCOMPLETE_UPLOADS_DAYS = 7
GLUE_CATALOG_ACTIONS = (
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:BatchGetPartition",
    "glue:BatchCreatePartition",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:UpdatePartition",
    "glue:CreatePartition",
)
# Partitions take the table's schema: when DMS adds a column, old partitions stay queryable.
CRAWLER_CONFIGURATION = json.dumps({"Version": 1.0, "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}}})


class DataLake(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        context: StackContext,
        config: DataLakeConfig,
        targets: Mapping[str, TargetConfig],
    ) -> None:
        super().__init__(scope, id_)
        prefix = context.prefix
        account_id = context.account_id
        kms_key_arn = context.kms_key_arn
        self._kms_key_arn = kms_key_arn
        self._context = context
        # The account id keeps the default name globally unique without asking the user for one.
        name = config.bucket_name or f"{prefix}-lake-{account_id}"
        # force_destroy off: a `destroy` must never take migrated data with it.
        self.bucket = S3Bucket(self, "bucket", bucket=name, force_destroy=False)
        self.bucket_name: str = self.bucket.bucket
        self.bucket_arn: str = self.bucket.arn
        self._secure_bucket(kms_key_arn)
        self._lifecycle(config)

        self.database = self._build_database(prefix, config)
        self.security_configuration = self._build_security_configuration(prefix, kms_key_arn)
        crawled = {key: target.crawled_prefix.strip("/") for key, target in targets.items() if target.crawled_prefix}
        self.crawler_role: IamRole | None = None
        self.crawlers: dict[str, GlueCrawler] = {}
        self.writer_policies: dict[str, IamRolePolicy] = {}  # dms_writer_role id -> its policy
        if crawled:
            self._crawlers(prefix=prefix, config=config, crawled=crawled)

        self.workgroup = self._build_workgroup(prefix, config, kms_key_arn)

    def _build_database(self, prefix: str, config: DataLakeConfig) -> GlueCatalogDatabase:
        return GlueCatalogDatabase(
            self,
            "database",
            # Athena rejects '-' in database names.
            name=config.glue_database_name or prefix.replace("-", "_"),
            description=f"{prefix}: tables of the data-lake prefixes DMS and Firehose write",
        )

    def _build_security_configuration(self, prefix: str, kms_key_arn: str) -> GlueSecurityConfiguration:
        """The crawlers' encryption: what they write to S3, their logs and their bookmarks, all with the stack's key."""
        return GlueSecurityConfiguration(
            self,
            "security-configuration",
            name=f"{prefix}-lake",
            encryption_configuration=GlueSecurityConfigurationEncryptionConfiguration(
                s3_encryption=GlueSecurityConfigurationEncryptionConfigurationS3Encryption(
                    s3_encryption_mode="SSE-KMS", kms_key_arn=kms_key_arn
                ),
                # CloudWatch Logs only offers SSE-KMS (Glue associates the key with the crawler's log group).
                cloudwatch_encryption=GlueSecurityConfigurationEncryptionConfigurationCloudwatchEncryption(
                    cloudwatch_encryption_mode="SSE-KMS", kms_key_arn=kms_key_arn
                ),
                job_bookmarks_encryption=GlueSecurityConfigurationEncryptionConfigurationJobBookmarksEncryption(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=kms_key_arn
                ),
            ),
        )

    def _build_workgroup(self, prefix: str, config: DataLakeConfig, kms_key_arn: str) -> AthenaWorkgroup:
        return AthenaWorkgroup(
            self,
            "workgroup",
            name=f"{prefix}-analytics",
            state="ENABLED",
            force_destroy=False,
            configuration=AthenaWorkgroupConfiguration(
                # Enforced: a client cannot send results elsewhere, unencrypted, or scan without the limit.
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=config.athena_bytes_scanned_cutoff_gb * 1024**3,
                engine_version=AthenaWorkgroupConfigurationEngineVersion(selected_engine_version="AUTO"),
                result_configuration=AthenaWorkgroupConfigurationResultConfiguration(
                    output_location=f"s3://{self.bucket_name}/{ATHENA_RESULTS_PREFIX}/",
                    encryption_configuration=AthenaWorkgroupConfigurationResultConfigurationEncryptionConfiguration(
                        encryption_option="SSE_KMS", kms_key_arn=kms_key_arn
                    ),
                ),
            ),
        )

    def _secure_bucket(self, kms_key_arn: str) -> None:
        self.versioning = S3BucketVersioningA(
            self,
            "bucket-versioning",
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "bucket-encryption",
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
                        )
                    ),
                    # One data key per bucket instead of one KMS call per object: DMS and Firehose write many.
                    bucket_key_enabled=True,
                )
            ],
        )
        public_access = S3BucketPublicAccessBlock(
            self,
            "bucket-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        # ACLs off: objects DMS, Firehose and Athena write all belong to this account.
        S3BucketOwnershipControls(
            self,
            "bucket-ownership",
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        objects = f"{self.bucket_arn}/*"
        policy = document(
            self,
            "bucket-policy-document",
            statement(
                "DenyInsecureTransport",
                ["s3:*"],
                [self.bucket_arn, objects],
                principal={"AWS": "*"},
                condition={"Bool": {"aws:SecureTransport": "false"}},
                effect="Deny",
            ),
            # Only an explicit header naming another algorithm is refused: uploads without the header get the
            # bucket's default SSE-KMS. (`StringNotEqualsIfExists` alone would be true for a missing header and
            # deny those uploads; the Null test makes the statement apply only when the header is present.)
            statement(
                "DenyEncryptionOtherThanKms",
                ["s3:PutObject"],
                objects,
                principal={"AWS": "*"},
                condition={
                    "Null": {"s3:x-amz-server-side-encryption": "false"},
                    "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                },
                effect="Deny",
            ),
        )
        # After the public access block: S3 evaluates the policy against it when the policy is put.
        self.bucket_policy = S3BucketPolicy(
            self, "bucket-policy", bucket=self.bucket.id, policy=policy, depends_on=[public_access]
        )

    def _lifecycle(self, config: DataLakeConfig) -> None:
        whole_bucket = [S3BucketLifecycleConfigurationRuleFilter(prefix="")]
        rules: list[S3BucketLifecycleConfigurationRule] = []
        transitions = [
            S3BucketLifecycleConfigurationRuleTransition(days=days, storage_class=storage_class)
            for days, storage_class in (
                (config.transition_to_ia_days, "STANDARD_IA"),
                (config.transition_to_glacier_days, "GLACIER"),
            )
            if days
        ]
        if transitions:
            rules.append(
                S3BucketLifecycleConfigurationRule(id="tiering", status="Enabled", filter=whole_bucket, transition=transitions)
            )
        rules += [
            S3BucketLifecycleConfigurationRule(
                id="expire-noncurrent-versions",
                status="Enabled",
                filter=whole_bucket,
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                        noncurrent_days=config.noncurrent_version_expiration_days
                    )
                ],
            ),
            S3BucketLifecycleConfigurationRule(
                id="abort-incomplete-multipart-uploads",
                status="Enabled",
                filter=whole_bucket,
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                        days_after_initiation=ABORT_INCOMPLETE_UPLOADS_DAYS
                    )
                ],
            ),
            # Query results are scratch output; versioning then lets the noncurrent rule remove them for good.
            S3BucketLifecycleConfigurationRule(
                id="expire-athena-results",
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix=f"{ATHENA_RESULTS_PREFIX}/")],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=config.athena_results_expiration_days)],
            ),
        ]
        # Lifecycle rules on a versioned bucket need versioning in place first (provider documentation).
        self.lifecycle = S3BucketLifecycleConfiguration(
            self, "bucket-lifecycle", bucket=self.bucket.id, rule=rules, depends_on=[self.versioning]
        )

    def _crawlers(
        self,
        *,
        prefix: str,
        config: DataLakeConfig,
        crawled: Mapping[str, str],
    ) -> None:
        context = self._context
        database = self.database.name
        role, policy = service_role(
            self,
            RoleIds("crawler-role", "crawler-policy", "crawler-policy-document"),
            name=f"{prefix}-lake-crawler",
            service=context.service_principal("glue"),
            policy_name="crawl-lake-prefixes",
            statements=[
                statement("ReadCrawledPrefixes", ["s3:GetObject"], [f"{self.bucket_arn}/{p}/*" for p in crawled.values()]),
                statement(
                    "ListCrawledPrefixes",
                    ["s3:ListBucket"],
                    self.bucket_arn,
                    condition={"StringLike": {"s3:prefix": [f"{p}/*" for p in crawled.values()]}},
                ),
                statement(
                    "MaintainLakeTables",
                    GLUE_CATALOG_ACTIONS,
                    [context.arn("glue", resource) for resource in ("catalog", f"database/{database}", f"table/{database}/*")],
                ),
                # The security configuration sends crawler logs to /aws-glue/crawlers-role/<role>-<configuration>.
                statement(
                    "WriteCrawlerLogs",
                    ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
                    context.arn("logs", "log-group:/aws-glue/crawlers*"),
                ),
                statement("UseLakeKey", ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"], self._kms_key_arn),
            ],
        )
        self.crawler_role = role
        for key, folder in crawled.items():
            self.crawlers[key] = GlueCrawler(
                self,
                f"crawler-{key}",
                name=f"{prefix}-{key}",
                database_name=database,
                role=role.arn,
                s3_target=[GlueCrawlerS3Target(path=f"s3://{self.bucket_name}/{folder}/")],
                schedule=config.crawler_schedule,
                security_configuration=self.security_configuration.name,
                configuration=CRAWLER_CONFIGURATION,
                # New columns from DMS reach the catalog (UPDATE_IN_DATABASE); dropped folders are only logged.
                schema_change_policy=GlueCrawlerSchemaChangePolicy(delete_behavior="LOG", update_behavior="UPDATE_IN_DATABASE"),
                # CRAWL_NEW_FOLDERS_ONLY demands LOG for updates too, so schema changes would never land:
                # crawl everything (event mode would need an S3 event queue we do not have).
                recrawl_policy=GlueCrawlerRecrawlPolicy(recrawl_behavior="CRAWL_EVERYTHING"),
                # The first scheduled run must already hold its permissions.
                depends_on=[policy],
            )

    def dms_writer_role(self, id_: str, *, name: str, folder: str) -> IamRole:
        """The service access role of a DMS S3 endpoint: write and list `folder`, nothing else of the bucket."""
        folder = folder.strip("/")
        # DMS checks the role when the endpoint is created: the endpoint waits for this policy.
        role, self.writer_policies[id_] = service_role(
            self,
            RoleIds(id_, f"{id_}-policy", f"{id_}-policy-document"),
            name=name,
            service=self._context.service_principal("dms"),
            policy_name="write-lake-folder",
            statements=[
                statement(
                    "WriteFolder",
                    ["s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"],
                    f"{self.bucket_arn}/{folder}/*",
                ),
                statement(
                    "ListFolder",
                    ["s3:ListBucket"],
                    self.bucket_arn,
                    condition={"StringLike": {"s3:prefix": f"{folder}/*"}},
                ),
                statement("LocateBucket", ["s3:GetBucketLocation"], self.bucket_arn),
                # SSE-KMS uploads need a data key; multipart uploads decrypt it again per part.
                statement("UseLakeKey", ["kms:GenerateDataKey", "kms:Decrypt"], self._kms_key_arn),
            ],
        )
        return role
