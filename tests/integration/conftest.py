"""Integration tests read only cfn-outputs/flat-outputs.json and the environment.

Against the emulator, `./tap test` deploys first and sets TAP_AWS_ENDPOINT_URL (a variable of our
own, so unit tests that use moto's in-process mock are never redirected to the emulator); against a
real account, deploy with TAP_TARGET=aws and run `pytest tests/integration` with normal credentials.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lib.config import PROJECT_ROOT
from lib.constants import OUTPUTS_FILE, Output

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def outputs() -> dict[str, Any]:
    path = PROJECT_ROOT / OUTPUTS_FILE
    if not path.is_file():
        pytest.fail(f"{OUTPUTS_FILE} is missing: deploy first (`./tap up`, or `python -m tools.deploy up`)")
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


@pytest.fixture(scope="session")
def endpoint_url() -> str | None:
    return os.environ.get("TAP_AWS_ENDPOINT_URL") or None


@pytest.fixture(scope="session")
def aws(outputs: dict[str, Any], endpoint_url: str | None) -> Callable[[str], Any]:
    """boto3 clients in the deployed region, at the emulator's endpoint when one is given."""
    region = outputs[Output.REGION]
    if endpoint_url:
        # The emulator accepts any key; a real account uses the standard credential chain instead.
        session = boto3.session.Session(region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
    else:
        session = boto3.session.Session(region_name=region)
    # moto 5.2.1's server mis-reads botocore's gzip-compressed PutMetricData bodies; AWS accepts either.
    config = Config(disable_request_compression=True) if endpoint_url else None
    cache: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in cache:
            cache[service] = session.client(service, endpoint_url=endpoint_url, config=config)
        return cache[service]

    return client
