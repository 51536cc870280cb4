"""The errors of the database layer, and the scrubbing that keeps credentials out of them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from .refusals import refusal_kind

REDACTED = "***"
# Drivers echo connection strings in their messages: `password=...` pairs and `user:pass@` in URLs.
_KEYWORD_PASSWORD = re.compile(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")
_URL_PASSWORD = re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@")


class DatabaseError(Exception):
    """A database could not be reached or used; the message names the problem and the fix, never a password."""


class RefusedError(DatabaseError):
    """A step of the writer move refuses for a registered reason: `kind` is a key of refusals.FENCE_REFUSALS."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class EndpointError(DatabaseError):
    """A database URL or secret is malformed or incomplete."""


class MappingError(DatabaseError):
    """DMS table mappings that cannot be applied to the source's catalog."""


def marker_missing_on_target(qualified_table: str, ddl: str) -> RefusedError:
    return RefusedError(
        f"target: table {qualified_table} does not exist; create it on the target ({ddl}) "
        "and make sure the task's mappings select it",
        refusal_kind("marker_missing_on_target"),
    )


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret (raw and percent-encoded) and any DSN password replaced by ***."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, REDACTED)
    text = _KEYWORD_PASSWORD.sub(lambda m: m.group(1) + REDACTED, text)
    return _URL_PASSWORD.sub(lambda m: m.group(1) + REDACTED + "@", text)


def one_line(text: str) -> str:
    """Driver messages span lines (libpq adds DETAIL/HINT); the CLI prints one."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())
