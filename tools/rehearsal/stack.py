"""The deployed stack on the emulator: reuse a healthy one, or deploy one and take it down again afterwards.

Reuse: the emulator answers (`.emulator/endpoint`) and cfn-outputs/flat-outputs.json describes an
emulator deployment whose cutover Lambda exists there. Otherwise `python -m tools.deploy up`
(TAP_TARGET=emulator) deploys, starting the emulator when none runs; on the way out, an emulator
this rehearsal started is stopped (and the outputs and state that described it are removed, as
`tools.deploy down` does). An emulator somebody else started is left running, with its deployment.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lib.constants import OUTPUTS_FILE, Output
from tools import emulator

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_TIMEOUT_SECONDS = 900
GROUP_STOP_SECONDS = 10.0
# An emulator that answers but whose deployment is not there yet is most likely being deployed by someone else.
WAIT_FOR_OTHER_DEPLOY_SECONDS = 420.0
POLL_SECONDS = 5.0
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class StackError(RuntimeError):
    pass


@dataclass(frozen=True)
class Stack:
    endpoint: str
    outputs: dict[str, Any]
    started_emulator: bool
    deployed_now: bool

    @property
    def region(self) -> str:
        return str(self.outputs[Output.REGION])

    def session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=self.region,
        )

    def client(self, service: str) -> Any:
        # moto's server mis-reads botocore's gzip-compressed PutMetricData bodies; AWS accepts either.
        config = Config(disable_request_compression=True, retries={"mode": "standard", "max_attempts": 4})
        return self.session().client(service, endpoint_url=self.endpoint, config=config)  # type: ignore[call-overload]

    def activate(self) -> None:
        """Point every boto3 client of this process at the emulator (the cutover engine builds its own clients)."""
        os.environ.update(EMULATOR_CREDENTIALS)
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint
        os.environ["AWS_DEFAULT_REGION"] = self.region
        os.environ["AWS_REGION"] = self.region


def read_outputs(path: Path | None = None) -> dict[str, Any] | None:
    path = path or PROJECT_ROOT / OUTPUTS_FILE
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def reusable(endpoint: str | None, outputs: dict[str, Any] | None) -> bool:
    """A healthy emulator holding the deployment the outputs describe (its cutover Lambda answers)."""
    if not endpoint or not outputs or outputs.get(Output.DEPLOYMENT_TARGET) != "emulator":
        return False
    function = outputs.get(Output.CUTOVER_FUNCTION_NAME)
    if not isinstance(function, str):
        return False
    stack = Stack(endpoint, outputs, started_emulator=False, deployed_now=False)
    try:
        stack.client("lambda").get_function_configuration(FunctionName=function)
    except (BotoCoreError, ClientError):
        return False
    return True


def _deploy(log: Callable[[str], None]) -> None:
    env = {**os.environ, "TAP_TARGET": "emulator", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    log("deploying the stack to the emulator (python -m tools.deploy up, ~2-4 minutes)")
    # Its own process group: on Ctrl-C, SIGTERM or a timeout the whole deployment (cdktf, node, terraform) is ended.
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.deploy", "up"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=DEPLOY_TIMEOUT_SECONDS)
    except BaseException:
        _end_group(process)
        raise
    if process.returncode != 0:
        raise StackError(f"tools.deploy up failed (exit {process.returncode}):\n{stderr[-4000:]}")


def _end_group(process: subprocess.Popen[str]) -> None:
    """SIGTERM the deployment's process group, SIGKILL what is left after GROUP_STOP_SECONDS."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + GROUP_STOP_SECONDS
        while time.monotonic() < deadline and _group_alive(process):
            time.sleep(0.2)
        if not _group_alive(process):
            break
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=GROUP_STOP_SECONDS)


def _group_alive(process: subprocess.Popen[str]) -> bool:
    process.poll()  # reap the leader, or it counts as alive as a zombie
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


def _take_down(log: Callable[[str], None]) -> None:
    """Stop the emulator this rehearsal started; its state file and outputs go with it (tools.deploy down without destroy)."""
    emulator.stop()
    # tools.deploy loads the CDKTF constructs (a Node.js runtime): only here, where its cleanup is needed.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from tools import deploy  # noqa: PLC0415

    deploy.down({**os.environ, "TAP_TARGET": "emulator"})
    log("stopped the emulator this rehearsal started (and removed its outputs and Terraform state)")


def _wait_for_other_deploy(log: Callable[[str], None]) -> tuple[str | None, dict[str, Any] | None]:
    """While an emulator runs without a usable deployment, give a deployment in progress time to finish."""
    endpoint, outputs = emulator.endpoint(), read_outputs()
    if endpoint is None or reusable(endpoint, outputs):
        return endpoint, outputs
    log(f"the emulator at {endpoint} has no usable deployment yet: waiting up to {WAIT_FOR_OTHER_DEPLOY_SECONDS:.0f}s for one")
    deadline = time.monotonic() + WAIT_FOR_OTHER_DEPLOY_SECONDS
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        endpoint, outputs = emulator.endpoint(), read_outputs()
        if endpoint is None or reusable(endpoint, outputs):
            break
    return endpoint, outputs


@contextlib.contextmanager
def emulator_stack(log: Callable[[str], None]) -> Iterator[Stack]:
    endpoint, outputs = _wait_for_other_deploy(log)
    if reusable(endpoint, outputs):
        assert endpoint is not None and outputs is not None
        log(f"reusing the emulator at {endpoint} and its deployment (left running afterwards)")
        yield Stack(endpoint, outputs, started_emulator=False, deployed_now=False)
        return
    started_emulator = endpoint is None
    try:
        _deploy(log)
        endpoint, outputs = emulator.endpoint(), read_outputs()
        if not reusable(endpoint, outputs):
            raise StackError("the deployment finished but the emulator or its outputs are not usable")
        assert endpoint is not None and outputs is not None
        yield Stack(endpoint, outputs, started_emulator=started_emulator, deployed_now=True)
    finally:
        if started_emulator:
            _take_down(log)
