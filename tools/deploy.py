"""Deploy the stack with real Terraform to the embedded emulator (default) or to AWS, and write the outputs.

    python -m tools.deploy up        # [emulator up] -> cdktf synth -> terraform init + apply -> flat outputs -> plan check
    python -m tools.deploy plan      # terraform plan -detailed-exitcode on the deployed stack (0 = no changes)
    python -m tools.deploy down      # terraform destroy if anything is deployed, then stop the emulator; safe to repeat
                                     # [--keep-backup: keep the state's .backup file terraform writes]
    python -m tools.deploy has-cutover  # exit 0 when the deployed stack has a cutover (data-lake stacks do not)

Target: TAP_TARGET (emulator | aws), else `deployment.target` in the config. The emulator target
starts moto on loopback (tools/emulator.py) and points the provider at it with test credentials;
the aws target uses the standard AWS credential chain and nothing here changes the stack.

Progress: `up` and `down` run Terraform with `-json` and print one short line per resource event
(tools/deploy_progress.py), a heartbeat when nothing was printed for HEARTBEAT_S seconds, and on failure
the last error diagnostic; every raw line goes to `.deploy-logs/<command>-<UTC time>.log`, whose path
is printed first and again at the end.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from lib.config import ConfigError, load_config
from lib.config.documentation_addresses import documentation_addresses
from lib.config.loader import state_file
from lib.constants import CORE_OUTPUTS, OUTPUTS_FILE, STACK_NAME, Output
from tools import emulator
from tools.deploy_progress import Diagnostic, ProgressRenderer, elapsed
from tools.emulator_support import EMULATOR_EXCLUSIONS, existing_network_spec
from tools.plan_guard import LiveMigration, PlanChanges, Verdict, guard, read_live
from tools.terraform_cli import ToolchainError, cli_config, prepare_workdir, terraform_binary

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STACK_DIR = PROJECT_ROOT / "cdktf.out" / "stacks" / STACK_NAME
CDKTF = PROJECT_ROOT / "node_modules" / ".bin" / "cdktf"
# Emulator-only: moto accepts any key; these never reach a real account.
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
LOG_DIR_NAME = ".deploy-logs"
# Print something at least this often during a long step (Terraform's own progress comes every 10 s
# per in-flight resource; init, synth and the plan before an apply can be silent for longer).
HEARTBEAT_S = 8.0


class DeployError(RuntimeError):
    pass


@dataclass
class Timings:
    steps: dict[str, float] = field(default_factory=dict)

    def run(
        self, name: str, args: Sequence[str], env: Mapping[str, str], cwd: Path = PROJECT_ROOT
    ) -> subprocess.CompletedProcess[str]:
        started = time.perf_counter()
        try:
            result = subprocess.run(list(args), cwd=cwd, env=dict(env), capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise DeployError(f"{args[0]} is not installed (needed for {name}): run ./tap setup") from None
        self.steps[name] = round(time.perf_counter() - started, 2)
        return result

    def stream(
        self,
        name: str,
        args: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        log: IO[str],
        *,
        renderer: ProgressRenderer | None = None,
    ) -> tuple[int, ProgressRenderer]:
        """Run a command, writing its output to `log` and printing what `renderer` makes of it as it comes.

        Without a renderer (cdktf synth) only heartbeats are printed; stderr is merged into the log.
        """
        renderer = renderer or ProgressRenderer()
        started = time.perf_counter()
        log.write(f"\n### {name}: {' '.join(args)}\n")
        log.flush()
        try:
            process = subprocess.Popen(
                list(args),
                cwd=cwd,
                env=dict(env),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                bufsize=1,
            )
        except FileNotFoundError:
            raise DeployError(f"{args[0]} is not installed (needed for {name}): run ./tap setup") from None
        lines: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
        _follow(lines, log, renderer, name, started)
        returncode = process.wait()
        self.steps[name] = round(time.perf_counter() - started, 2)
        log.write(f"### {name}: exit {returncode} after {self.steps[name]}s\n")
        log.flush()
        return returncode, renderer


def _pump(pipe: Iterable[str], lines: queue.Queue[str | None]) -> None:
    for line in pipe:
        lines.put(line)
    lines.put(None)


def _follow(lines: queue.Queue[str | None], log: IO[str], renderer: ProgressRenderer, name: str, started: float) -> None:
    """Log every line, print the rendered ones, and a heartbeat whenever HEARTBEAT_S passed without a printed line."""
    last_shown = time.monotonic()
    while True:
        try:
            line = lines.get(timeout=max(0.05, HEARTBEAT_S - (time.monotonic() - last_shown)))
        except queue.Empty:
            _show(renderer.heartbeat(time.perf_counter() - started, name))
            last_shown = time.monotonic()
            continue
        if line is None:
            return
        log.write(line)
        log.flush()
        shown = renderer.feed(line)
        if shown:
            _show(shown)
            last_shown = time.monotonic()


def _show(lines: Sequence[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr, flush=True)


def open_log(command: str) -> tuple[Path, IO[str]]:
    """A fresh log file for one `up`/`down`: .deploy-logs/<command>-<UTC time>.log (gitignored)."""
    folder = PROJECT_ROOT / LOG_DIR_NAME
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{command}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.log"
    return path, path.open("w", encoding="utf-8")


def _streamed(result: tuple[int, ProgressRenderer], what: str, log_path: Path) -> ProgressRenderer:
    returncode, renderer = result
    if returncode != 0:
        report = "\n".join(renderer.failure_report())
        raise DeployError(f"{what} failed (exit {returncode}):\n\n{report}\n\nfull log: {log_path}")
    return renderer


def _log(message: str) -> None:
    print(f"[deploy] {message}", file=sys.stderr, flush=True)


def _target(env: Mapping[str, str]) -> str:
    return env.get("TAP_TARGET") or load_config(env={k: v for k, v in env.items() if k != "TAP_TARGET"}).deployment.target


def _state(target: str, env: Mapping[str, str]) -> Path:
    # Read the prefix as the aws target: the emulator target would demand a running emulator's URL.
    return state_file(target, load_config(env={**env, "TAP_TARGET": "aws"}).project.prefix)


def _may_be_deployed(target: str, env: Mapping[str, str]) -> bool:
    """Whether a deployment may exist: a local state file says so; remote (S3) state is read by Terraform itself,
    so it counts as deployed (the guard then plans against it, and a plan of nothing deployed shows only adds)."""
    if load_config(env={**env, "TAP_TARGET": "aws"}).state.backend == "s3":
        return True
    return _state(target, env).is_file()


def deployment_env(target: str, endpoint_url: str | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for cdktf/terraform/boto3: provider source, target, and (emulator) endpoint and test keys."""
    env = dict(os.environ if base is None else base)
    env.update(cli_config(env))
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    env["TAP_TARGET"] = target
    if target == "emulator":
        if not endpoint_url:
            raise DeployError("the emulator target needs the emulator's endpoint URL")
        env.update(EMULATOR_CREDENTIALS)
        env["TAP_EMULATOR_ENDPOINT"] = endpoint_url
        env["AWS_ENDPOINT_URL"] = endpoint_url
        env.setdefault("AWS_REGION", load_config(env=env).project.region)
        env.setdefault("AWS_DEFAULT_REGION", env["AWS_REGION"])
    return env


def _checked(result: subprocess.CompletedProcess[str], what: str) -> str:
    if result.returncode != 0:
        raise DeployError(f"{what} failed (exit {result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
    return result.stdout


def flatten_outputs(terraform_output_json: Mapping[str, Any]) -> dict[str, Any]:
    """`terraform output -json` -> {key: value}; refuses sensitive outputs so no secret lands in cfn-outputs/."""
    flat: dict[str, Any] = {}
    for key, entry in terraform_output_json.items():
        if entry.get("sensitive"):
            raise DeployError(f"output {key!r} is sensitive: outputs must carry ARNs and names, never secret values")
        flat[key] = entry["value"]
    missing = CORE_OUTPUTS - set(flat)
    if missing:
        raise DeployError(f"the deployed stack lacks outputs {sorted(missing)}: redeploy from this checkout")
    return flat


def write_outputs(env: Mapping[str, str], timings: Timings) -> dict[str, Any]:
    raw = json.loads(
        _checked(timings.run("outputs", [terraform_binary(env), "output", "-json"], env, STACK_DIR), "terraform output")
    )
    flat = flatten_outputs(raw)
    path = PROJECT_ROOT / OUTPUTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(flat, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return flat


def plan_is_clean(env: Mapping[str, str], timings: Timings, log: IO[str], log_path: Path) -> tuple[bool, str]:
    """Right after apply, a plan must show no changes: this is what catches perpetual diffs (e.g. DMS task settings).

    Plain text (the diff is for a person), streamed so the refresh before it gets heartbeats.
    """
    _log("terraform plan -detailed-exitcode (must show no changes right after apply)")
    returncode, renderer = timings.stream(
        "plan_after_apply",
        [terraform_binary(env), "plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false"],
        env,
        STACK_DIR,
        log,
        renderer=ProgressRenderer(raw_keep=100_000),
    )
    if returncode == 0:
        return True, ""
    text = "\n".join(renderer.raw_tail)
    if returncode == 2:
        return False, text
    raise DeployError(f"terraform plan failed:\n{text[-4000:]}\n\nfull log: {log_path}")


class _Clients:
    """boto3 clients for the deployment's environment (region, emulator endpoint and test keys included)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def client(self, service: str) -> Any:
        import boto3  # noqa: PLC0415  (only the guard needs AWS)

        env = self._env
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or load_config(env=env).project.region,
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            aws_session_token=env.get("AWS_SESSION_TOKEN") or None,
        )


def guard_plan(
    env: Mapping[str, str],
    timings: Timings,
    log: IO[str],
    log_path: Path,
    *,
    allow: Sequence[str] = (),
    reason: str = "",
) -> tuple[Verdict, PlanChanges]:
    """Plan the synthesized stack against what is deployed and refuse what a live migration cannot survive.

    The stack directory must be initialised against this target's state first (`init`).
    """
    plan_file = STACK_DIR / "guard.tfplan"
    _log("plan guard: terraform plan against the deployed stack (a live migration refuses replacements)")
    _streamed(
        timings.stream(
            "guard_plan",
            [terraform_binary(env), "plan", "-input=false", "-lock=false", "-no-color", f"-out={plan_file}"],
            env,
            STACK_DIR,
            log,
        ),
        "terraform plan",
        log_path,
    )
    _log("plan guard: reading the plan and what the live migration is doing")
    try:
        shown = _checked(
            timings.run("guard_show", [terraform_binary(env), "show", "-json", str(plan_file)], env, STACK_DIR),
            "terraform show",
        )
        plan_json = json.loads(shown)
        changes = PlanChanges.of(plan_json)
        if not changes.none:
            # The changes only, as Terraform words them (the refresh lines before them stay in the log).
            changes.text = _checked(
                timings.run("guard_show_text", [terraform_binary(env), "show", "-no-color", str(plan_file)], env, STACK_DIR),
                "terraform show",
            )
    finally:
        plan_file.unlink(missing_ok=True)
    outputs = read_outputs(PROJECT_ROOT / OUTPUTS_FILE)
    live = read_live(_Clients(env), outputs) if outputs else LiveMigration()
    verdict = guard(plan_json, live, set(allow))
    if not verdict.ok:
        raise DeployError(verdict.message())
    if verdict.allowed:
        if not reason.strip():
            raise DeployError("--allow-replace needs --reason: it is recorded in the cutover state's history")
        for change in verdict.allowed:
            note = f"allowed {change} during a live migration ({'; '.join(verdict.live)}): {reason.strip()}"
            _checked(
                timings.run("guard_note", [str(PROJECT_ROOT / "cutover"), "--operator", _operator(env), "note", note], env),
                "./cutover note",
            )
    _log(verdict.message())
    return verdict, changes


def init(env: Mapping[str, str], timings: Timings, log: IO[str], log_path: Path) -> None:
    """terraform init in the stack directory; prepare_workdir forgot the backend pointer, so this binds the
    directory to this target's state before anything plans or applies."""
    _streamed(
        timings.stream("init", [terraform_binary(env), "init", "-input=false", "-json"], env, STACK_DIR, log),
        "terraform init",
        log_path,
    )


def apply(env: Mapping[str, str], timings: Timings, log: IO[str], log_path: Path) -> ProgressRenderer:
    """terraform apply with progress: one line per resource started/finished, still-running lines every 10 s."""
    _log("terraform apply -auto-approve")
    return _streamed(
        timings.stream(
            "apply",
            [terraform_binary(env), "apply", "-json", "-auto-approve", "-input=false"],
            env,
            STACK_DIR,
            log,
            renderer=ProgressRenderer(),
        ),
        "terraform apply",
        log_path,
    )


def synth(env: Mapping[str, str], timings: Timings, log: IO[str], log_path: Path) -> None:
    _log("cdktf synth")
    _streamed(timings.stream("synth", [str(CDKTF), "synth"], env, PROJECT_ROOT, log), "cdktf synth", log_path)


def _operator(env: Mapping[str, str]) -> str:
    return env.get("USER") or env.get("LOGNAME") or getpass.getuser()


def refuse_documentation_addresses(env: Mapping[str, str]) -> None:
    """A real account gets real addresses: the sample config's RFC 5737/3849 example addresses stop here, before synth."""
    found = documentation_addresses(load_config(env=env))
    if found:
        raise DeployError(
            "the config still holds documentation addresses, which no real network has:\n"
            + "\n".join(f"  - {line}" for line in found)
            + "\nfix them in the config (TAP_CONFIG or config/tap-migrate.toml); the emulator target accepts them"
        )


def _seed_existing_network(endpoint_url: str, env: Mapping[str, str]) -> None:
    """The emulator stands in for an account where what the config names by ID exists already."""
    config = load_config(env={k: v for k, v in env.items() if k != "TAP_TARGET"})
    spec = existing_network_spec(config)
    if spec is None:
        return
    from tools.emulator_fixtures import FixtureShapeError, FixtureSpecError, ec2_client, seed_existing_network  # noqa: PLC0415

    try:
        report = seed_existing_network(ec2_client(endpoint_url, config.project.region), spec)
    except (FixtureShapeError, FixtureSpecError) as err:
        raise DeployError(f"cannot seed the existing network the config names into the emulator: {err}") from None
    if report.created:
        _log(f"emulator: seeded the existing network the config names: {', '.join(report.created)}")


def up(
    env_base: Mapping[str, str] | None = None, allow: Sequence[str] = (), reason: str = "", *, as_json: bool = False
) -> dict[str, Any]:
    started_at = time.perf_counter()
    env_base = os.environ if env_base is None else env_base
    timings = Timings()
    target = _target(env_base)
    endpoint_url = None
    if target == "emulator":
        _log("starting the emulator (or finding the one running)")
        started = time.perf_counter()
        endpoint_url = emulator.start()
        timings.steps["emulator_start"] = round(time.perf_counter() - started, 2)
        _log(f"emulator on {endpoint_url}")
        _log(f"left out in the emulator target only (tools/emulator_support.py): {'' if EMULATOR_EXCLUSIONS else 'none'}")
        for exclusion in EMULATOR_EXCLUSIONS:
            _log(f"  - {exclusion.resource_type}: {exclusion.why} (covered by {exclusion.covered_by})")
        _seed_existing_network(endpoint_url, env_base)
    else:
        refuse_documentation_addresses(env_base)
    env = deployment_env(target, endpoint_url, env_base)
    _log(f"target {target}; terraform provider from {env['TAP_PROVIDER_ORIGIN']}")
    log_path, log = open_log("up")
    _log(f"full log: {log_path}")
    with log:
        synth(env, timings, log, log_path)
        prepare_workdir(STACK_DIR)
        init(env, timings, log, log_path)
        if _may_be_deployed(target, env_base):
            # An existing deployment: nothing a live migration stands on may be replaced or destroyed unannounced.
            guard_plan(env, timings, log, log_path, allow=allow, reason=reason)
        applied = apply(env, timings, log, log_path)
        outputs = write_outputs(env, timings)
        _log(f"outputs written to {OUTPUTS_FILE} ({len(outputs)} keys); apply took {elapsed(timings.steps['apply'])}")
        clean, diff = plan_is_clean(env, timings, log, log_path)
    report = {
        "target": target,
        "endpoint": endpoint_url,
        "timings_s": timings.steps,
        "plan_clean": clean,
        "applied": applied.summary,
        "log": str(log_path),
    }
    if not clean:
        _log("terraform plan after apply is NOT empty:\n" + diff[-6000:])
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(up_summary(report, len(outputs), time.perf_counter() - started_at))
    if not clean:
        raise DeployError("the deployment drifts right after apply (see the plan above)")
    return report


def up_summary(report: Mapping[str, Any], output_count: int, seconds: float) -> str:
    """What `./tap up` did, for a person: resources, where the outputs are, the plan after apply, what to run next."""
    applied = str(report.get("applied") or "Apply complete.").removeprefix("Apply complete! ")
    plan_line = "no changes (the deployment does not drift)" if report["plan_clean"] else "CHANGES PENDING (see above)"
    where = f"the emulator at {report['endpoint']}" if report.get("endpoint") else str(report["target"])
    return "\n".join(
        [
            f"done in {elapsed(seconds)}: deployed to {where}",
            f"  {applied}",
            f"  outputs:          {OUTPUTS_FILE} ({output_count} keys)",
            f"  plan after apply: {plan_line}",
            f"  full log:         {report['log']}",
            "  next: ./cutover status (the cutover's gates) · ./tap test (the whole suite) · ./tap down (remove it)",
        ]
    )


def plan(allow: Sequence[str] = (), reason: str = "") -> int:
    """Synthesize the config and plan it against the deployed stack through the guard; 0: no changes, 2: changes.

    One `terraform plan`: the guard reads it, and the summary and the changes printed come from the same plan.
    """
    target = _target(os.environ)
    if not _may_be_deployed(target, os.environ):
        raise DeployError("nothing is deployed yet: ./tap up deploys (there is nothing live to guard)")
    if target == "aws":
        refuse_documentation_addresses(os.environ)
    env = deployment_env(target, emulator.endpoint() if target == "emulator" else None)
    timings = Timings()
    log_path, log = open_log("plan")
    _log(f"full log: {log_path}")
    with log:
        synth(env, timings, log, log_path)
        prepare_workdir(STACK_DIR)
        init(env, timings, log, log_path)
        verdict, changes = guard_plan(env, timings, log, log_path, allow=allow, reason=reason)
    if changes.text:
        print(changes.text.rstrip())
    print(f"{changes.sentence()}; the plan guard allows it ({verdict.reason()}). Full log: {log_path}")
    if not changes.none:
        print("apply it with ./tap up (it runs the same guard first)")
    return 0 if changes.none else 2


def down(env_base: Mapping[str, str] | None = None, keep_backup: bool = False) -> dict[str, float]:
    """Destroy what is deployed (if anything), then stop the emulator; safe to repeat, also after a failure.

    Terraform's local backend copies the state to `<state>.backup` before each write; a destroyed
    deployment leaves nothing worth restoring from it, so it goes unless `keep_backup`.
    """
    env_base = os.environ if env_base is None else env_base
    timings = Timings()
    target = _target(env_base)
    state = _state(target, env_base)
    backup = state.with_name(state.name + ".backup")
    endpoint_url = emulator.endpoint() if target == "emulator" else None
    try:
        if _may_be_deployed(target, env_base) and (target == "aws" or endpoint_url):
            destroy(deployment_env(target, endpoint_url, env_base), timings)
        if not keep_backup:
            backup.unlink(missing_ok=True)
    finally:
        if target == "emulator":
            # A stopped emulator keeps nothing: its state file and outputs would describe resources that are gone.
            emulator.stop()
            state.unlink(missing_ok=True)
            (PROJECT_ROOT / OUTPUTS_FILE).unlink(missing_ok=True)
            if not keep_backup:
                backup.unlink(missing_ok=True)
    if keep_backup and backup.is_file():
        _log(f"state backup kept: {backup}")
    return timings.steps


# A delete that fails because the object is not there any more: the goal of a destroy is reached for it.
_ALREADY_GONE = re.compile(
    r"StatusCode: 404\b|\bResourceNotFound|\bNotFound(Exception|Fault)?\b|\bNoSuch[A-Z]\w*|does not exist",
    re.IGNORECASE,
)


def already_gone(errors: Sequence[Diagnostic]) -> list[str] | None:
    """The addresses whose delete failed only because the object was already gone, when that is every error.

    None when there is no error, or when any error has no address or another cause: that is a real failure.
    """
    if not errors:
        return None
    addresses: list[str] = []
    for error in errors:
        if not error.address or not _ALREADY_GONE.search(f"{error.summary}\n{error.detail}"):
            return None
        if error.address not in addresses:
            addresses.append(error.address)
    return addresses


def destroy(env: Mapping[str, str], timings: Timings) -> ProgressRenderer:
    """terraform destroy; objects found already gone are dropped from the state and the destroy runs once more.

    Any other failure raises DeployError with Terraform's diagnostic (the caller exits non-zero).
    """
    log_path, log = open_log("down")
    _log(f"terraform destroy -auto-approve; full log: {log_path}")
    command = [terraform_binary(env), "destroy", "-json", "-auto-approve", "-input=false"]
    with log:
        init(env, timings, log, log_path)
        returncode, destroyed = timings.stream("destroy", command, env, STACK_DIR, log, renderer=ProgressRenderer())
        gone = already_gone(destroyed.errors) if returncode != 0 else None
        if gone:
            _log(f"already gone, so destroyed as far as Terraform is concerned: {', '.join(gone)}; removing from the state")
            _checked(timings.run("state rm", [terraform_binary(env), "state", "rm", *gone], env, STACK_DIR), "terraform state rm")
            returncode, destroyed = timings.stream("destroy again", command, env, STACK_DIR, log, renderer=ProgressRenderer())
        destroyed = _streamed((returncode, destroyed), "terraform destroy", log_path)
    took = timings.steps["destroy"] + timings.steps.get("destroy again", 0.0)
    _log(f"destroy took {elapsed(took)}; full log: {log_path}")
    return destroyed


def read_outputs(path: Path) -> dict[str, Any] | None:
    """The deployed stack's flat outputs; None when there is no file; DeployError naming the fix when it is broken."""
    if not path.is_file():
        return None
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise DeployError(f"{path} is not valid JSON ({error}); redeploy (./tap up) to rewrite it") from None
    if not isinstance(outputs, dict):
        raise DeployError(f"{path} must hold a JSON object of outputs; redeploy (./tap up) to rewrite it")
    return outputs


def has_cutover(path: Path | None = None) -> bool:
    """Whether the deployed stack (its outputs file) has a cutover Lambda."""
    outputs = read_outputs(path or PROJECT_ROOT / OUTPUTS_FILE)
    return outputs is not None and Output.CUTOVER_FUNCTION_NAME in outputs


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog=f"./tap {words[0]}" if words and words[0] in ("up", "plan", "down") else "./tap",
        description="Deploy (up), plan against (plan) or destroy (down) the stack; see ./tap help.",
    )
    parser.add_argument("command", choices=["up", "plan", "down", "has-cutover"], help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="up/down: print the report as JSON for machines")
    parser.add_argument(
        "--allow-replace",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="up/plan: let this Terraform address be replaced or destroyed during a live migration (repeatable)",
    )
    parser.add_argument("--reason", default="", help="why: recorded in the cutover state's history")
    parser.add_argument("--keep-backup", action="store_true", help="down: keep the state's .tfstate.backup (removed by default)")
    args = parser.parse_args(words)
    try:
        if args.command == "has-cutover":
            # Data-lake stacks have no cutover: `./tap up` skips the cutover status for them.
            return 0 if has_cutover() else 1
        if args.command == "up":
            up(allow=args.allow_replace, reason=args.reason, as_json=args.json)
        elif args.command == "plan":
            return plan(args.allow_replace, args.reason)
        else:
            started = time.perf_counter()
            timings = down(keep_backup=args.keep_backup)
            if args.json:
                print(json.dumps({"timings_s": timings}))
            else:
                what = "destroyed the deployment" if "destroy" in timings else "nothing was deployed"
                print(f"done in {elapsed(time.perf_counter() - started)}: {what}; the emulator (if any) is stopped")
    except (DeployError, emulator.EmulatorError, ToolchainError) as error:
        _log(str(error))
        return 1
    except ConfigError as error:
        _log(f"{error}\nfix the configuration file (TAP_CONFIG or config/tap-migrate.toml), then run the command again")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
