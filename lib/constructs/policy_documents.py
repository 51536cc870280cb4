"""IAM policy documents, written as IAM JSON dicts and emitted as `aws_iam_policy_document` data sources.

Why a data source and not a JSON string: CDKTF's `synth --hcl` (our exit path) mangles JSON
strings that embed Terraform references, while a data source renders cleanly in both JSON
and HCL, and keeps every statement structured for the policy gate and checkov.
Assume-role documents go through Terraform's jsonencode for the same reason (their principals end in
the partition's DNS suffix, a reference).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from lib.jsonencode import jsonencode


def statement(
    sid: str,
    actions: Iterable[str],
    resources: Iterable[str] | str,
    principal: Mapping[str, Any] | None = None,
    condition: Mapping[str, Any] | None = None,
    *,
    effect: str = "Allow",
) -> dict[str, Any]:
    body: dict[str, Any] = {"Sid": sid, "Effect": effect, "Action": sorted(actions)}
    body["Resource"] = resources if isinstance(resources, str) else list(resources)
    if principal is not None:
        body["Principal"] = dict(principal)
    if condition is not None:
        body["Condition"] = dict(condition)
    return body


def _as_list(value: Any) -> list[str]:
    return list(value) if isinstance(value, list | tuple) else [value]


def document(scope: Construct, id_: str, *statements: Mapping[str, Any]) -> str:
    """Create the data source in `scope` and return its rendered JSON (a Terraform reference)."""
    rendered = [
        DataAwsIamPolicyDocumentStatement(
            sid=s["Sid"],
            effect=s.get("Effect", "Allow"),
            actions=_as_list(s["Action"]),
            resources=_as_list(s["Resource"]),
            principals=[
                DataAwsIamPolicyDocumentStatementPrincipals(type=kind, identifiers=_as_list(ids))
                for kind, ids in s.get("Principal", {}).items()
            ]
            or None,
            condition=[
                DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=_as_list(values))
                for test, pairs in s.get("Condition", {}).items()
                for variable, values in pairs.items()
            ]
            or None,
        )
        for s in statements
    ]
    return DataAwsIamPolicyDocument(scope, id_, statement=rendered).json


def assume_role_policy(*services: str) -> str:
    """The trust policy letting `services` assume a role.

    Through Terraform's jsonencode, not a JSON literal: the principals end in the partition's DNS suffix (a
    reference), and `cdktf synth --hcl` cannot render a reference inside a JSON string literal.
    """
    return jsonencode(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AssumeByService",
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": sorted(services)},
                }
            ],
        }
    )


@dataclass(frozen=True)
class RoleIds:
    """Construct ids of a service role, its inline policy and the policy's document."""

    role: str
    policy: str
    document: str


def service_role(
    scope: Construct,
    ids: RoleIds,
    *,
    name: str,
    service: str,
    policy_name: str,
    statements: Iterable[Mapping[str, Any]],
) -> tuple[IamRole, IamRolePolicy]:
    """A role one AWS service assumes, with one inline least-privilege policy (returned so others can wait for it)."""
    role = IamRole(scope, ids.role, name=name, assume_role_policy=assume_role_policy(service))
    policy = IamRolePolicy(
        scope,
        ids.policy,
        name=policy_name,
        role=role.id,
        policy=document(scope, ids.document, *statements),
    )
    return role, policy
