"""Throwaway PostgreSQL 15 and MariaDB servers on loopback, for tests and migration rehearsals.

    with postgres_server(settings={"wal_level": "logical"}) as pg:
        pg.create_database("appdb")
        url = pg.url("appdb")            # postgresql://tap:<password>@127.0.0.1:<port>/appdb
    with mariadb_server() as maria:
        maria.create_database("appdb")
        url = maria.url("appdb")         # mysql://tap:<password>@127.0.0.1:<port>/appdb
    with mariadb_replication_pair() as pair:  # primary -> replica, GTID binlog replication
        pair.primary.create_database("appdb"); pair.forward.wait_caught_up()

Each server gets a fresh temporary folder (data, unix socket, logs, a self-signed TLS certificate),
listens on 127.0.0.1 only, on a port the kernel reports free, and is stopped and deleted when the
block exits for any reason: an exception, KeyboardInterrupt, SIGTERM (turned into SystemExit so the
`finally` blocks run) or interpreter exit (atexit). Never a system service: the servers run in the
foreground of their own process, as the unprivileged `postgres` / `mysql` user when we are root
(both servers refuse to run as root).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

import psycopg
import pymysql
import pymysql.cursors
from psycopg import sql

HOST = "127.0.0.1"
SUPERUSER = "tap"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 20.0
POLL_SECONDS = 0.05

POSTGRES_BINARIES = ("initdb", "pg_ctl", "postgres")
MARIADB_BINARIES = ("mariadbd", "mariadb-install-db")
POSTGRES_HINT = (
    "install the PostgreSQL 15 server (Debian/Ubuntu: `apt-get install postgresql-15`, then put "
    "/usr/lib/postgresql/15/bin on PATH)"
)
MARIADB_HINT = (
    "install MariaDB (Debian/Ubuntu: `apt-get install mariadb-server`; keep its system service stopped — "
    "the tests start their own server)"
)

# Small and fast: these servers hold test data only, and losing it in a crash costs nothing.
POSTGRES_DEFAULTS: Mapping[str, str] = {
    "wal_level": "logical",
    "max_replication_slots": "10",
    "max_wal_senders": "10",
    "max_connections": "60",
    "shared_buffers": "16MB",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_slot_wal_keep_size": "1GB",
}
MARIADB_DEFAULTS: Mapping[str, str] = {
    "log-bin": "binlog",
    "server-id": "1",
    "binlog-format": "ROW",
    "binlog-row-image": "FULL",
    "binlog-expire-logs-seconds": "604800",
    "innodb-buffer-pool-size": "32M",
    "innodb-log-file-size": "16M",
    "innodb-flush-log-at-trx-commit": "0",
    "innodb-doublewrite": "0",
    "skip-name-resolve": "ON",
    "max-connections": "60",
}


class DatabaseServerError(RuntimeError):
    """A throwaway server could not be started; the message says why and how to fix it."""


# --------------------------------------------------------------------------------------
# Cleanup whatever happens


_cleanups: dict[int, Callable[[], None]] = {}
_cleanup_lock = threading.Lock()
_sigterm_installed = False


def _run_cleanups() -> None:
    with _cleanup_lock:
        pending = list(_cleanups.values())
        _cleanups.clear()
    for cleanup in reversed(pending):
        with contextlib.suppress(Exception):
            cleanup()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds the stack, so every `with postgres_server()` block cleans up as on Ctrl-C. A second
    # SIGTERM or Ctrl-C while that cleanup runs would abort it half-way and leave a server behind: ignore them.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise SystemExit(128 + signum)


def _register_cleanup(cleanup: Callable[[], None]) -> int:
    global _sigterm_installed  # noqa: PLW0603  (one process-wide handler, installed once)
    with _cleanup_lock:
        token = id(cleanup)
        _cleanups[token] = cleanup
        if not _sigterm_installed and threading.current_thread() is threading.main_thread():
            if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
                signal.signal(signal.SIGTERM, _exit_on_sigterm)
            _sigterm_installed = True
    return token


def _unregister_cleanup(token: int) -> None:
    with _cleanup_lock:
        _cleanups.pop(token, None)


atexit.register(_run_cleanups)


# --------------------------------------------------------------------------------------
# Shared helpers


def missing_binaries(names: Sequence[str]) -> list[str]:
    return [name for name in names if shutil.which(name) is None]


def _require(names: Sequence[str], hint: str) -> None:
    missing = missing_binaries(names)
    if missing:
        raise DatabaseServerError(f"{', '.join(missing)} not found on PATH: {hint}")


def free_port() -> int:
    """A loopback port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _is_root() -> bool:
    return os.geteuid() == 0


def _as_user(user: str, argv: Sequence[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if _is_root() else list(argv)


def _own(path: Path, user: str) -> None:
    if _is_root():
        entry = pwd.getpwnam(user)
        for root, directories, files in os.walk(path):
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for name in (*directories, *files):
                os.chown(Path(root) / name, entry.pw_uid, entry.pw_gid)


def _make_workdir(prefix: str, service_user: str) -> Path:
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    if _is_root():
        try:
            pwd.getpwnam(service_user)
        except KeyError:
            shutil.rmtree(directory, ignore_errors=True)
            raise DatabaseServerError(
                f"running as root needs the unprivileged '{service_user}' user to run the server; the server package "
                f"creates it ({POSTGRES_HINT if service_user == 'postgres' else MARIADB_HINT})"
            ) from None
    return directory


def _run(argv: Sequence[str], what: str, log: Path) -> None:
    with log.open("ab") as sink:
        result = subprocess.run(argv, stdout=sink, stderr=subprocess.STDOUT, check=False, timeout=START_TIMEOUT_SECONDS)
    if result.returncode != 0:
        raise DatabaseServerError(f"{what} failed (exit {result.returncode}); its log:\n{_tail(log)}")


def _tail(log: Path, lines: int = 25) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1, so the servers accept TLS like production ones do."""
    if shutil.which("openssl") is None:
        raise DatabaseServerError("openssl not found on PATH: install it (`apt-get install openssl`) or pass ssl=False")
    certificate, key = directory / "server.crt", directory / "server.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "2", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(certificate),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    key.chmod(0o600)
    return certificate, key


def _password() -> str:
    # URL-unsafe characters on purpose: they prove every caller percent-encodes credentials.
    return f"{secrets.token_urlsafe(12)}:/@%"


# --------------------------------------------------------------------------------------
# PostgreSQL


@dataclass
class PostgresServer:
    """A running throwaway cluster; `tap` is its superuser (password auth over TCP, trust on the socket)."""

    port: int
    directory: Path
    password: str = field(repr=False)
    settings: Mapping[str, str]
    host: str = HOST
    superuser: str = SUPERUSER

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres", user: str | None = None, password: str | None = None, **query: str) -> str:
        user = user or self.superuser
        secret = self.password if password is None else password
        credentials = quote(user, safe="") + (":" + quote(secret, safe="") if secret else "")
        suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        return f"postgresql://{credentials}@{self.host}:{self.port}/{quote(database, safe='')}{suffix}"

    def connect(self, database: str = "postgres", **kwargs: Any) -> psycopg.Connection[Any]:
        params: dict[str, Any] = {"autocommit": True, "sslmode": "disable", "connect_timeout": 10}
        params |= kwargs
        return psycopg.connect(
            host=str(self.directory), port=self.port, user=self.superuser, dbname=database, **params
        )  # the unix socket: trust auth, no password needed

    def execute(self, statement: str, database: str = "postgres", params: Sequence[Any] | None = None) -> None:
        with self.connect(database) as connection:
            connection.execute(statement, params)

    def query(self, statement: str, database: str = "postgres", params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.connect(database) as connection:
            return connection.execute(statement, params).fetchall()

    def create_database(self, name: str, owner: str | None = None) -> None:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if owner:
            statement = sql.SQL("{} OWNER {}").format(statement, sql.Identifier(owner))
        with self.connect() as connection:
            connection.execute(statement)

    def drop_database(self, name: str) -> None:
        with self.connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def create_user(self, name: str, password: str, *, replication: bool = False, superuser: bool = False) -> None:
        options = sql.SQL(" ").join(
            sql.SQL(word)
            for word in ("LOGIN", "REPLICATION" if replication else "NOREPLICATION", "SUPERUSER" if superuser else "NOSUPERUSER")
        )
        with self.connect() as connection:
            connection.execute(
                sql.SQL("CREATE ROLE {} {} PASSWORD {}").format(sql.Identifier(name), options, sql.Literal(password))
            )


def _pg_ctl(server_dir: Path, *arguments: str) -> list[str]:
    return _as_user("postgres", ["pg_ctl", "-D", str(server_dir / "data"), *arguments])


@contextlib.contextmanager
def postgres_server(settings: Mapping[str, str] | None = None, *, ssl: bool = True) -> Iterator[PostgresServer]:
    """Start a PostgreSQL cluster (initdb + pg_ctl) in a temp folder; stop and delete it on exit."""
    _require(POSTGRES_BINARIES, POSTGRES_HINT)
    directory = _make_workdir("tap-pg-", "postgres")
    password = _password()
    merged = dict(POSTGRES_DEFAULTS) | dict(settings or {})
    started = False

    def stop() -> None:
        if started:
            subprocess.run(
                _pg_ctl(directory, "-m", "immediate", "-w", "-t", str(int(STOP_TIMEOUT_SECONDS)), "stop"),
                capture_output=True,
                check=False,
                timeout=STOP_TIMEOUT_SECONDS + 5,
            )
        shutil.rmtree(directory, ignore_errors=True)

    token = _register_cleanup(stop)
    try:
        log = directory / "setup.log"  # ours; the server writes its own log (it runs as another user)
        server_log = directory / "postgres.log"
        (directory / "pwfile").write_text(password + "\n")
        options = dict(merged)
        if ssl:
            certificate, key = _self_signed_certificate(directory)
            options |= {"ssl": "on", "ssl_cert_file": str(certificate), "ssl_key_file": str(key)}
        _own(directory, "postgres")
        _run(
            _as_user(
                "postgres",
                [
                    "initdb", "-D", str(directory / "data"), "-U", SUPERUSER, f"--pwfile={directory / 'pwfile'}",
                    "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C",
                ],
            ),
            "initdb",
            log,
        )  # fmt: skip
        (directory / "pwfile").unlink()
        port = free_port()
        flags = [
            f"-p {port}",
            f"-k {directory}",
            f"-c listen_addresses={HOST}",
            *(f"-c {name}={value}" for name, value in options.items()),
        ]
        started = True
        try:
            _run(_pg_ctl(directory, "-o", " ".join(flags), "-l", str(server_log), "-w", "-t", str(int(START_TIMEOUT_SECONDS)),
                         "start"), "pg_ctl start", log)  # fmt: skip
        except DatabaseServerError as error:
            # pg_ctl's own output says little when the server fails; the server log says why.
            raise DatabaseServerError(f"{error}\nserver log:\n{_tail(server_log)}") from None
        yield PostgresServer(port=port, directory=directory, password=password, settings=merged)
    finally:
        _unregister_cleanup(token)
        stop()


# --------------------------------------------------------------------------------------
# MariaDB


@dataclass
class MariaDbServer:
    """A running throwaway MariaDB; `tap`@`%` holds every privilege, with a password."""

    port: int
    directory: Path
    password: str = field(repr=False)
    host: str = HOST
    superuser: str = SUPERUSER

    @property
    def socket_path(self) -> Path:
        return self.directory / "mariadb.sock"

    def url(self, database: str = "", user: str | None = None, password: str | None = None, **query: str) -> str:
        user = user or self.superuser
        secret = self.password if password is None else password
        credentials = quote(user, safe="") + (":" + quote(secret, safe="") if secret else "")
        suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        return f"mysql://{credentials}@{self.host}:{self.port}/{quote(database, safe='')}{suffix}"

    def connect(self, database: str | None = None, **kwargs: Any) -> pymysql.connections.Connection[Any]:
        params: dict[str, Any] = {"autocommit": True, "connect_timeout": 10}
        params |= kwargs
        return pymysql.connect(unix_socket=str(self.socket_path), user="root", password="", database=database, **params)

    def execute(self, statement: str, database: str | None = None, params: Sequence[Any] | None = None) -> None:
        with self.connect(database) as connection, connection.cursor() as cursor:
            cursor.execute(statement, params)

    def query(self, statement: str, database: str | None = None, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.connect(database) as connection, connection.cursor() as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())

    def create_database(self, name: str) -> None:
        self.execute(f"CREATE DATABASE `{_mysql_name(name)}`")

    def drop_database(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS `{_mysql_name(name)}`")

    def create_user(self, name: str, password: str, grants: Sequence[str] = ()) -> None:
        """`grants` are `GRANT` bodies such as "SELECT ON appdb.*" or "REPLICATION SLAVE ON *.*"."""
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (name, password))
            for grant in grants:
                cursor.execute(f"GRANT {grant} TO %s@'%%'", (name,))


def _mysql_name(name: str) -> str:
    if "`" in name:
        raise ValueError(f"identifier {name!r} must not contain a backtick")
    return name


@contextlib.contextmanager
def mariadb_server(options: Mapping[str, str | None] | None = None, *, ssl: bool = True) -> Iterator[MariaDbServer]:
    """Start mariadbd (after mariadb-install-db) in a temp folder; stop and delete it on exit.

    `options` are mariadbd long options without the dashes; a value of None drops a default (e.g.
    {"log-bin": None} starts without a binary log).
    """
    _require(MARIADB_BINARIES, MARIADB_HINT)
    directory = _make_workdir("tap-maria-", "mysql")
    password = _password()
    process: subprocess.Popen[bytes] | None = None

    def stop() -> None:
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
        shutil.rmtree(directory, ignore_errors=True)

    token = _register_cleanup(stop)
    try:
        log = directory / "setup.log"  # ours; the server writes its own log (it runs as another user)
        server_log = directory / "mariadbd.log"
        data = directory / "data"
        merged: dict[str, str | None] = {**MARIADB_DEFAULTS, **(options or {})}
        if ssl:
            certificate, key = _self_signed_certificate(directory)
            merged |= {"ssl-cert": str(certificate), "ssl-key": str(key)}
        _own(directory, "mysql")
        user_flag = ["--user=mysql"] if _is_root() else []
        _run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={data}", *user_flag,
             "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
             "--innodb-log-file-size=16M", "--innodb-buffer-pool-size=32M", "--innodb-doublewrite=0",
             "--innodb-flush-log-at-trx-commit=0"],
            "mariadb-install-db",
            log,
        )  # fmt: skip
        port = free_port()
        argv = [
            "mariadbd", "--no-defaults", *user_flag, f"--datadir={data}", f"--socket={directory / 'mariadb.sock'}",
            f"--port={port}", f"--bind-address={HOST}", f"--pid-file={directory / 'mariadbd.pid'}",
            f"--log-error={server_log}",
            *(f"--{name}={value}" for name, value in merged.items() if value is not None),
        ]  # fmt: skip
        # Its own session: a Ctrl-C in the terminal reaches us, and we stop the server in order.
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        server = MariaDbServer(port=port, directory=directory, password=password)
        _wait_for_mariadb(server, process, server_log)
        with server.connect() as connection, connection.cursor() as cursor:
            cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (SUPERUSER, password))
            cursor.execute("GRANT ALL PRIVILEGES ON *.* TO %s@'%%' WITH GRANT OPTION", (SUPERUSER,))
        yield server
    finally:
        _unregister_cleanup(token)
        stop()


def _wait_for_mariadb(server: MariaDbServer, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise DatabaseServerError(f"mariadbd exited with {process.returncode} while starting; its log:\n{_tail(log)}")
        if server.socket_path.exists():
            try:
                server.connect().close()
                return
            except pymysql.err.OperationalError:
                pass
        if time.monotonic() > deadline:
            raise DatabaseServerError(f"mariadbd did not accept connections within {START_TIMEOUT_SECONDS:.0f}s:\n{_tail(log)}")
        time.sleep(POLL_SECONDS)


# --------------------------------------------------------------------------------------
# MariaDB primary -> replica (GTID binlog replication)

REPLICATION_USER = "tap_repl"
# Each server logs its own writes in its own GTID domain (1: primary, 2: replica), and logs what it applies
# (log-slave-updates) like Aurora logs what DMS writes: a position taken on one server covers both directions.
MARIADB_PRIMARY_OPTIONS: Mapping[str, str] = {"server-id": "1", "gtid-domain-id": "1", "log-slave-updates": "ON"}
MARIADB_REPLICA_OPTIONS: Mapping[str, str] = {"server-id": "2", "gtid-domain-id": "2", "log-slave-updates": "ON"}


@dataclass
class MariaDbLink:
    """GTID binlog replication from `publisher` to `subscriber` (the subscriber's default replication connection).

    `start()` begins at the publisher's current GTID position ("from now": nothing older is replayed), like a
    DMS task started CDC-only from a position taken at that moment. The subscriber's replica threads write
    through read_only, as DMS's account does with READ_ONLY ADMIN / CONNECTION_ADMIN.
    """

    publisher: MariaDbServer
    subscriber: MariaDbServer
    user: str
    password: str = field(repr=False)

    def start(self) -> str:
        """Replicate every change the publisher commits from now on; returns the GTID position it starts from."""
        position = self.start_without_waiting()
        self.wait_running()
        return position

    def start_without_waiting(self) -> str:
        """As `start`, returning as soon as the replica is told to start (its threads may still be connecting)."""
        (position,) = self.publisher.query("SELECT @@GLOBAL.gtid_binlog_pos")[0]
        with contextlib.closing(self.subscriber.connect()) as connection, connection.cursor() as cursor:
            cursor.execute("STOP SLAVE")
            cursor.execute("RESET SLAVE ALL")
            cursor.execute("SET GLOBAL gtid_slave_pos = %s", (position,))
            cursor.execute(
                "CHANGE MASTER TO MASTER_HOST = %s, MASTER_PORT = %s, MASTER_USER = %s, MASTER_PASSWORD = %s, "
                "MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1",
                (self.publisher.host, self.publisher.port, self.user, self.password),
            )
            cursor.execute("START SLAVE")
        return str(position)

    def status(self) -> dict[str, Any]:
        """SHOW SLAVE STATUS of the subscriber as a dict ({} when no replication is configured)."""
        with self.subscriber.connect() as connection, connection.cursor(pymysql.cursors.DictCursor) as cursor:
            cursor.execute("SHOW SLAVE STATUS")
            row = cursor.fetchone()
        return dict(row) if row else {}

    def running(self) -> bool:
        status = self.status()
        return status.get("Slave_IO_Running") == "Yes" and status.get("Slave_SQL_Running") == "Yes"

    def wait_running(self, timeout_s: float = START_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.running():
            status = self.status()
            if time.monotonic() > deadline:
                errors = {k: status.get(k) for k in ("Last_IO_Error", "Last_SQL_Error", "Slave_IO_Running", "Slave_SQL_Running")}
                raise DatabaseServerError(f"replication {self.publisher.port} -> {self.subscriber.port} did not start: {errors}")
            time.sleep(POLL_SECONDS)

    def stop(self) -> None:
        """Stop both replica threads; the position is kept, so `resume()` continues where it stopped."""
        self.subscriber.execute("STOP SLAVE")

    def resume(self) -> None:
        self.subscriber.execute("START SLAVE")
        self.wait_running()

    def remove(self) -> None:
        """Stop and forget the replication (RESET SLAVE ALL): the subscriber replicates nothing any more."""
        self.subscriber.execute("STOP SLAVE")
        self.subscriber.execute("RESET SLAVE ALL")

    def wait_caught_up(self, timeout_s: float = 30.0) -> None:
        """Wait until the subscriber applied everything the publisher had committed when this was called."""
        (position,) = self.publisher.query("SELECT @@GLOBAL.gtid_binlog_pos")[0]
        (reached,) = self.subscriber.query("SELECT MASTER_GTID_WAIT(%s, %s)", params=(position, timeout_s))[0]
        if reached != 0:
            raise DatabaseServerError(f"the replica did not reach {position} within {timeout_s:.0f}s: {self.status()}")


@dataclass
class MariaDbReplicationPair:
    """Two throwaway MariaDB servers: `primary` replicates to `replica` (`forward`); `reverse` is the way back.

    Both run with ROW binlogs, GTIDs (domain 1 on the primary, 2 on the replica) and log-slave-updates;
    `tap` (every privilege) exists on both, made before the binlogs were reset, so replication carries only
    what the caller does. A database created on the primary while `forward` runs appears on the replica.
    """

    primary: MariaDbServer
    replica: MariaDbServer
    forward: MariaDbLink
    reverse: MariaDbLink

    def reset(self) -> None:
        """Back to the initial direction between two uses: no reverse replication, both servers writable, and
        forward replication started from now (databases that diverged before stay as they are)."""
        self.reverse.remove()
        self.forward.remove()
        for server in (self.primary, self.replica):
            server.execute("SET GLOBAL read_only = OFF")
        self.forward.start()

    def drop_database(self, name: str) -> None:
        """Drop it on both servers without logging the drop (works whatever the replication's state)."""
        for server in (self.primary, self.replica):
            with server.connect() as connection, connection.cursor() as cursor:
                cursor.execute("SET SESSION sql_log_bin = 0")
                cursor.execute(f"DROP DATABASE IF EXISTS `{_mysql_name(name)}`")


@contextlib.contextmanager
def mariadb_replication_pair(
    options: Mapping[str, str | None] | None = None, *, ssl: bool = True
) -> Iterator[MariaDbReplicationPair]:
    """Start a primary and a replica (`mariadb_server` each) with forward GTID replication running; stop both on exit.

        with mariadb_replication_pair() as pair:
            pair.primary.create_database("appdb")          # replicated: appears on pair.replica
            pair.forward.wait_caught_up()
            pair.forward.stop(); pair.reverse.start()       # the writer moved: replica -> primary from now

    `options` are extra mariadbd options for both servers (see `mariadb_server`). Cleanup is that of
    `mariadb_server`: the servers are stopped and their folders deleted whatever ends the block.
    """
    password = _password()
    with contextlib.ExitStack() as servers:
        primary = servers.enter_context(mariadb_server({**MARIADB_PRIMARY_OPTIONS, **(options or {})}, ssl=ssl))
        replica = servers.enter_context(mariadb_server({**MARIADB_REPLICA_OPTIONS, **(options or {})}, ssl=ssl))
        for server in (primary, replica):
            server.create_user(REPLICATION_USER, password, ("REPLICATION SLAVE, BINLOG MONITOR ON *.*",))
            server.execute("RESET MASTER")  # the setup's own statements are never replicated
        pair = MariaDbReplicationPair(
            primary,
            replica,
            MariaDbLink(primary, replica, REPLICATION_USER, password),
            MariaDbLink(replica, primary, REPLICATION_USER, password),
        )
        pair.forward.start()
        yield pair
