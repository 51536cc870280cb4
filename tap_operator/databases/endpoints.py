"""Where a database is and how to log in: parsed from a URL or from a Secrets Manager secret.

An Endpoint carries the password, but its str() and repr() never show it, and every error raised
here names the field at fault without echoing the URL or the secret it came from.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import EndpointError, scrub

ENGINES = ("postgres", "mysql", "mariadb")
DEFAULT_PORTS: Mapping[str, int] = {"postgres": 5432, "mysql": 3306, "mariadb": 3306}
URL_SCHEMES: Mapping[str, str] = {"postgresql": "postgres", "postgres": "postgres", "mysql": "mysql", "mariadb": "mariadb"}
# One vocabulary for both drivers, libpq's: what we require of the connection we open ourselves.
SSL_MODES = ("disable", "prefer", "require", "verify-ca", "verify-full")
_SSL_WORDS: Mapping[str, str] = {
    "disable": "disable", "disabled": "disable", "false": "disable", "0": "disable", "no": "disable", "off": "disable",
    "allow": "prefer", "prefer": "prefer", "preferred": "prefer",
    "require": "require", "required": "require", "true": "require", "1": "require", "yes": "require", "on": "require",
    "verify-ca": "verify-ca", "verify_ca": "verify-ca",
    "verify-full": "verify-full", "verify_identity": "verify-full", "verify-identity": "verify-full",
}  # fmt: skip
_SSL_KEYS = ("sslmode", "ssl", "ssl-mode", "ssl_mode")
_CA_KEYS = ("sslrootcert", "ssl-ca", "ssl_ca")
# Secrets Manager `engine` values (RDS and DMS write these) -> our engine names.
_SECRET_ENGINES: Mapping[str, str] = {
    "postgres": "postgres", "postgresql": "postgres", "aurora-postgresql": "postgres",
    "mysql": "mysql", "aurora-mysql": "mysql", "aurora": "mysql", "mariadb": "mariadb",
}  # fmt: skip
# The DMS endpoint's ssl_mode (config) -> what our own connection to the same server requires.
CONFIG_SSL_MODES: Mapping[str, str] = {
    "none": "prefer",
    "require": "require",
    "verify-ca": "verify-ca",
    "verify-full": "verify-full",
}


def family_of(engine: str) -> str:
    """postgres, or mysql for MySQL and MariaDB (same protocol, same SQL for what we do)."""
    return "postgres" if engine == "postgres" else "mysql"


@dataclass(frozen=True, repr=False)
class Endpoint:
    engine: str  # postgres | mysql | mariadb
    host: str
    port: int
    user: str
    password: str = field(compare=False)
    database: str
    ssl_mode: str = "prefer"
    ssl_ca_pem: str = field(default="", compare=False)  # a public CA certificate, for verify-ca / verify-full

    @property
    def family(self) -> str:
        return family_of(self.engine)

    @property
    def label(self) -> str:
        """user@host:port/database with the engine as scheme: safe to print and log."""
        return f"{self.engine}://{self.user}@{self.host}:{self.port}/{self.database}"

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"Endpoint({self.label}, ssl_mode={self.ssl_mode})"

    def with_database(self, database: str) -> Endpoint:
        return replace(self, database=database)

    def with_credentials(self, user: str, password: str) -> Endpoint:
        return replace(self, user=user, password=password)

    def scrub(self, text: str) -> str:
        return scrub(text, [self.password])


def _ssl_mode(value: str, role: str) -> str:
    mode = _SSL_WORDS.get(value.strip().lower())
    if mode is None:
        raise EndpointError(
            f"{role} URL: ssl mode {value!r} is not recognised; use one of {', '.join(SSL_MODES)} "
            "(MySQL spellings such as required / verify_identity work too)"
        )
    return mode


def _read_ca(path: str, role: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise EndpointError(f"{role} URL: CA certificate file {path!r} cannot be read ({error.strerror}); fix the path") from None


def parse_url(url: str, role: str = "database") -> Endpoint:
    """postgresql://user:pass@host:port/db?sslmode=require, postgres://, mysql://, mariadb:// (percent-encoded)."""
    try:
        parts = urlsplit(url.strip())
        port_text = parts.port
    except ValueError:
        raise EndpointError(f"{role} URL: the port is not a number from 1 to 65535; write it as host:5432") from None
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES:
        shown = f"{scheme!r}" if scheme else "missing"
        raise EndpointError(
            f"{role} URL: scheme {shown} is not supported; use postgresql:// (or postgres://), mysql:// or mariadb://, "
            "e.g. postgresql://user:password@host:5432/appdb"
        )
    engine = URL_SCHEMES[scheme]
    if not parts.hostname:
        raise EndpointError(f"{role} URL: no host; write {scheme}://user:password@host:port/database")
    if not parts.username:
        raise EndpointError(f"{role} URL: no user name; write {scheme}://user:password@host:port/database")
    database = unquote(parts.path.lstrip("/"))
    if engine == "postgres" and not database:
        raise EndpointError(f"{role} URL: no database; append /<database> to the URL (e.g. .../appdb)")
    ssl_mode, ca_pem = "prefer", ""
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in _SSL_KEYS:
            ssl_mode = _ssl_mode(value, role)
        elif key.lower() in _CA_KEYS:
            ca_pem = _read_ca(value, role)
        else:
            raise EndpointError(
                f"{role} URL: query parameter {key!r} is not supported; use sslmode=<{'|'.join(SSL_MODES)}> "
                "and sslrootcert=<CA file> only"
            )
    if ssl_mode.startswith("verify") and not ca_pem:
        raise EndpointError(f"{role} URL: sslmode={ssl_mode} needs the CA certificate; add sslrootcert=/path/to/ca.pem")
    return Endpoint(
        engine=engine,
        host=parts.hostname,
        port=port_text or DEFAULT_PORTS[engine],
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        database=database,
        ssl_mode=ssl_mode,
        ssl_ca_pem=ca_pem,
    )


def endpoint_from_secret(
    secret_string: str,
    *,
    engine: str,
    default_database: str,
    ssl_mode: str = "prefer",
    ssl_ca_pem: str = "",
    role: str = "database",
) -> Endpoint:
    """A Secrets Manager secret's JSON (username, password, host, port, optional dbname/database, engine).

    `engine` is the engine the configuration names; a secret whose own `engine` is of another family is refused.
    """
    if engine not in ENGINES:
        raise EndpointError(f"{role}: engine {engine!r} is not supported; use one of {', '.join(ENGINES)}")
    try:
        secret: Any = json.loads(secret_string)
    except ValueError:
        raise EndpointError(
            f"{role} secret: its value is not JSON; store an object with username, password, host, port, dbname"
        ) from None
    if not isinstance(secret, dict):
        raise EndpointError(f"{role} secret: its value must be a JSON object with username, password, host, port")
    for name in ("username", "password", "host"):
        value = secret.get(name)
        if not isinstance(value, str) or not value:
            raise EndpointError(
                f"{role} secret: field {name!r} is missing or empty; add it (`aws secretsmanager put-secret-value` with "
                "username, password, host, port, dbname)"
            )
    secret_engine = secret.get("engine")
    if isinstance(secret_engine, str) and secret_engine:
        named = _SECRET_ENGINES.get(secret_engine.lower())
        if named is None or family_of(named) != family_of(engine):
            raise EndpointError(
                f"{role} secret: its engine {secret_engine!r} does not match the configured engine {engine!r}; "
                "fix the secret's engine field or the configuration"
            )
        if engine == "mysql" and named == "mariadb":
            engine = "mariadb"
    port_value = secret.get("port", DEFAULT_PORTS[engine])
    try:
        port = int(port_value)
    except (TypeError, ValueError):
        port = 0
    if not 1 <= port <= 65535:
        raise EndpointError(f"{role} secret: field 'port' must be a number from 1 to 65535; fix it in the secret")
    database = secret.get("dbname") or secret.get("database") or default_database
    if not isinstance(database, str):
        raise EndpointError(f"{role} secret: field 'dbname' must be a string; fix it in the secret")
    if engine == "postgres" and not database:
        raise EndpointError(f"{role} secret: no database; add 'dbname' to the secret or set the database in the config")
    return Endpoint(
        engine=engine,
        host=secret["host"],
        port=port,
        user=secret["username"],
        password=secret["password"],
        database=database,
        ssl_mode=ssl_mode,
        ssl_ca_pem=ssl_ca_pem,
    )


def read_secret_string(client: Any, secret_id: str, role: str = "database") -> str:
    """SecretString of a secret through a boto3 `secretsmanager` client; errors name the secret and the AWS error code."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415  (botocore is heavy; only this path needs it)

    try:
        response = client.get_secret_value(SecretId=secret_id)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        hint = {
            "ResourceNotFoundException": "check the ARN and the region",
            "AccessDeniedException": "your credentials need secretsmanager:GetSecretValue (and kms:Decrypt) on it",
        }.get(code, "check the ARN, region and your credentials")
        if code == "ResourceNotFoundException" and "current version" in str(error).lower():
            hint = "the secret has no value yet: fill it with `aws secretsmanager put-secret-value`"
        raise EndpointError(f"{role} secret {secret_id}: cannot read it ({code}); {hint}") from None
    except BotoCoreError as error:
        raise EndpointError(
            f"{role} secret {secret_id}: cannot read it ({type(error).__name__}); check region and network"
        ) from None
    value = response.get("SecretString")
    if not isinstance(value, str):
        raise EndpointError(f"{role} secret {secret_id}: it has no SecretString; store the credentials as a JSON string")
    return value


@contextlib.contextmanager
def ca_file(endpoint: Endpoint) -> Iterator[str | None]:
    """The endpoint's CA certificate as a private temporary file (drivers take a path), removed afterwards."""
    if not endpoint.ssl_ca_pem:
        yield None
        return
    descriptor, path = tempfile.mkstemp(prefix="tap-ca-", suffix=".pem")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(endpoint.ssl_ca_pem)
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
