"""The embedded AWS: moto in server mode on loopback, with our patches applied, as a background process.

    python -m tools.emulator up       # start (or find running) and print the endpoint URL
    python -m tools.emulator url      # print the endpoint URL (exit 1 if not running)
    python -m tools.emulator status   # "running <url> (pid N)" / "not running" (exit 3)
    python -m tools.emulator down     # stop it; quiet and successful if it is not running
    python -m tools.emulator serve    # run in the foreground (what `up` starts in the background)

Environment:
- TAP_EMULATOR_PORT: the port to bind (default: a free port chosen by the kernel at bind time).
- TAP_EMULATOR_STATE_DIR: where the pid, endpoint and log files live (default `.emulator/`).
- TAP_EMULATOR_START_TIMEOUT / TAP_EMULATOR_STOP_TIMEOUT: seconds (defaults 60 / 10).

The server runs moto's `ThreadedMotoServer` in the launcher's own Python, not the `moto_server`
entry point, because the patches in `tools.moto_patches` must be applied in the serving process.
It binds 127.0.0.1 only, and nothing here sends traffic anywhere but loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_START_TIMEOUT = 60.0
DEFAULT_STOP_TIMEOUT = 10.0
# A moto-api route that every moto server answers, cheap (no backend is created to answer it).
HEALTH_PATH = "/moto-api/config"
# The emulator's moto settings. Managed policies: the stack attaches AWS managed policies (e.g.
# AmazonDMSVPCManagementRole), which moto only knows when it loads them.
MOTO_ENVIRONMENT = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
# What the serve process's command line holds; checked before signalling a pid from the pid file,
# so a stale file whose pid was reused by another program never gets that program killed.
SERVE_MODULE = "tools.emulator"
EXIT_NOT_RUNNING = 3
POLL_SECONDS = 0.1
LOG_TAIL_LINES = 20


class EmulatorError(RuntimeError):
    pass


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    configured = env.get("TAP_EMULATOR_STATE_DIR")
    return Path(configured).expanduser().resolve() if configured else PROJECT_ROOT / ".emulator"


def _pid_file(directory: Path) -> Path:
    return directory / "pid"


def _endpoint_file(directory: Path) -> Path:
    return directory / "endpoint"


def log_file(directory: Path | None = None) -> Path:
    return (directory or state_dir()) / "emulator.log"


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise EmulatorError(f"{name}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise EmulatorError(f"{name}={raw!r} must be positive")
    return value


def _requested_port() -> int:
    raw = os.environ.get("TAP_EMULATOR_PORT")
    if not raw:
        return 0
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise EmulatorError(f"TAP_EMULATOR_PORT={raw!r} is not a TCP port number")
    return int(raw)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(text + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _alive(pid: int) -> bool:
    """True while `pid` is a process that has not exited (a zombie has exited)."""
    # Reap it if it is our own child (start() then stop() in one Python), else it lingers as a zombie.
    with contextlib.suppress(ChildProcessError):
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return True
    # Field 3, after the parenthesised command name (which may itself hold spaces or parentheses).
    return stat.rpartition(")")[2].split()[0] != "Z"


def _is_emulator(pid: int) -> bool:
    """The pid runs our serve process (not some other program that inherited a stale pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        # No procfs (macOS): fall back to liveness; the pid file is ours and removed on a clean stop.
        return _alive(pid)
    return SERVE_MODULE.encode() in cmdline and b"serve" in cmdline


def _running_pid(directory: Path) -> int | None:
    raw = _read(_pid_file(directory))
    if raw is None or not raw.isdigit():
        return None
    pid = int(raw)
    return pid if _alive(pid) and _is_emulator(pid) else None


def _healthy(url: str, timeout: float = 2.0) -> bool:
    # An opener without proxy handlers: a proxy from the environment must never see emulator traffic.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url + HEALTH_PATH, timeout=timeout) as response:
            status: int = response.status
            return 200 <= status < 300
    except (urllib.error.URLError, OSError):
        return False


def _log_tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(lines[-LOG_TAIL_LINES:]) or "(log is empty)"


def endpoint(directory: Path | None = None) -> str | None:
    """The URL of the running, healthy emulator, or None."""
    directory = directory or state_dir()
    if _running_pid(directory) is None:
        return None
    url = _read(_endpoint_file(directory))
    return url if url and _healthy(url) else None


def _clean(directory: Path) -> None:
    for path in (_pid_file(directory), _endpoint_file(directory)):
        path.unlink(missing_ok=True)


# Popen objects of servers this Python started: kept so they are reaped (no zombie) when stopped.
_children: dict[int, subprocess.Popen[bytes]] = {}


def start(directory: Path | None = None) -> str:
    """Start the emulator in the background unless it already runs; return its endpoint URL."""
    directory = directory or state_dir()
    existing = endpoint(directory)
    if existing:
        return existing
    stop(directory)  # a stale or unhealthy one: nothing of it may survive into the new start
    directory.mkdir(parents=True, exist_ok=True)
    port = _requested_port()
    timeout = _seconds("TAP_EMULATOR_START_TIMEOUT", DEFAULT_START_TIMEOUT)
    log_path = log_file(directory)
    command = [sys.executable, "-m", SERVE_MODULE, "serve", "--port", str(port), "--state-dir", str(directory)]
    with log_path.open("wb") as log:
        # A new session: the server outlives this command and no terminal signal (Ctrl-C) reaches it.
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env={**os.environ, **MOTO_ENVIRONMENT},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[process.pid] = process
    _write_atomically(_pid_file(directory), str(process.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _children.pop(process.pid, None)
            _clean(directory)
            raise EmulatorError(
                f"the emulator exited during start-up (exit code {process.returncode}); log {log_path}:\n{_log_tail(log_path)}"
            )
        url = _read(_endpoint_file(directory))
        if url and _healthy(url):
            return url
        time.sleep(POLL_SECONDS)
    stop(directory)
    raise EmulatorError(f"the emulator did not answer within {timeout:.0f}s; log {log_path}:\n{_log_tail(log_path)}")


def stop(directory: Path | None = None) -> None:
    """Stop the emulator: SIGTERM, then SIGKILL after the stop timeout. Quiet if it is not running."""
    directory = directory or state_dir()
    pid = _running_pid(directory)
    if pid is not None:
        timeout = _seconds("TAP_EMULATOR_STOP_TIMEOUT", DEFAULT_STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not _wait_for_exit(pid, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            if not _wait_for_exit(pid, timeout):
                raise EmulatorError(f"emulator pid {pid} survived SIGKILL")
        child = _children.pop(pid, None)
        if child is not None:
            child.wait()
    _clean(directory)


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(POLL_SECONDS)
    return not _alive(pid)


def serve(port: int, directory: Path) -> int:
    """Foreground server: apply the patches, bind loopback, publish the URL, run until SIGTERM/SIGINT."""
    os.environ.update(MOTO_ENVIRONMENT)
    # Imported here, not at the top: `up`/`down`/`status` must not pay for importing moto.
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    from tools.moto_patches import apply_all  # noqa: PLC0415

    applied = apply_all()
    print(f"moto patches applied: {', '.join(applied)}", flush=True)
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    default_hook = threading.excepthook

    def server_thread_died(hook_args: threading.ExceptHookArgs) -> None:
        # ThreadedMotoServer.start() waits forever if its thread cannot bind: exit, so `up` reports the log.
        default_hook(hook_args)
        if hook_args.thread is not None and hook_args.thread is server._thread:
            sys.stderr.flush()
            os._exit(2)

    threading.excepthook = server_thread_died
    server.start()
    host, bound_port = server.get_host_and_port()
    url = f"http://{host}:{bound_port}"
    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        print(f"signal {signum}: stopping", flush=True)
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    directory.mkdir(parents=True, exist_ok=True)
    # Published only once bound, so a reader of this file never sees a port that is not yet listening.
    _write_atomically(_endpoint_file(directory), url)
    print(f"moto {_moto_version()} serving on {url} (pid {os.getpid()})", flush=True)
    while not stopping.wait(timeout=1.0):
        pass
    server.stop()
    if _read(_endpoint_file(directory)) == url:
        _endpoint_file(directory).unlink(missing_ok=True)
    print("stopped", flush=True)
    return 0


def _moto_version() -> str:
    import moto  # noqa: PLC0415  (see serve)

    version: str = moto.__version__
    return version


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.emulator", description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "down", "status", "url"):
        commands.add_parser(name)
    serve_parser = commands.add_parser("serve", help="run in the foreground (used by `up`)")
    serve_parser.add_argument("--port", type=int, default=None)
    serve_parser.add_argument("--state-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    directory = state_dir()
    try:
        if args.command == "up":
            print(start(directory))
        elif args.command == "down":
            stop(directory)
        elif args.command == "serve":
            port = _requested_port() if args.port is None else args.port
            return serve(port, (args.state_dir or directory).resolve())
        else:
            url = endpoint(directory)
            if url is None:
                print("not running", file=sys.stderr if args.command == "url" else sys.stdout)
                return 1 if args.command == "url" else EXIT_NOT_RUNNING
            print(url if args.command == "url" else f"running {url} (pid {_running_pid(directory)})")
    except EmulatorError as error:
        print(f"emulator: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
