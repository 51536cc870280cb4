"""How the rehearsal's application finds its database: weighted Route 53 records, cached for their TTL.

A caching stub resolver is one DNS client: it asks Route 53 (ListResourceRecordSets on the emulator
stands in for a DNS query) only when its cached answer has expired, picks one record of the weighted
set with probability weight / sum of weights (all weights 0: every record equally, as Route 53 does),
and keeps that answer for the record's TTL. A CNAME target is then mapped to a cluster through the
rehearsal's name table, since the Route 53 names point at hosts that do not exist on this machine.

One client sees a weight change only when its cache expires, and then moves all at once. An
application has many clients (hosts, processes) whose caches expire at different moments; a
ClientPool plays them: N clients, client k's first answer treated as k/N of a TTL old (the steady
state of clients that started at different times), each picking with its own random source. Asked
in turn, their answers follow the weights step by step: the share of answers naming a target moves
towards its weight as the clients' caches expire one after another over a TTL.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from mypy_boto3_route53.client import Route53Client

T = TypeVar("T")


class ResolveError(RuntimeError):
    pass


@dataclass(frozen=True)
class WeightedRecord:
    set_identifier: str
    weight: int
    ttl: int
    target: str  # the CNAME value, without the trailing dot


@dataclass(frozen=True)
class Answer:
    name: str
    record: WeightedRecord
    resolved_at: float  # the resolver's clock
    from_cache: bool

    @property
    def target(self) -> str:
        return self.record.target

    @property
    def expires_at(self) -> float:
        return self.resolved_at + self.record.ttl


def read_weighted(client: Route53Client, zone_id: str, name: str) -> list[WeightedRecord]:
    """The weighted CNAME records of `name` (one page; the rehearsal's zone holds a handful of names)."""
    wanted = name.rstrip(".").lower()
    response = client.list_resource_record_sets(
        HostedZoneId=zone_id, StartRecordName=wanted, StartRecordType="CNAME", MaxItems="20"
    )
    records: list[WeightedRecord] = []
    for entry in response.get("ResourceRecordSets", []):
        if entry["Name"].rstrip(".").lower() != wanted or entry["Type"] != "CNAME" or "Weight" not in entry:
            continue
        values = entry.get("ResourceRecords", [])
        if values:
            records.append(
                WeightedRecord(
                    entry.get("SetIdentifier", ""), int(entry["Weight"]), int(entry.get("TTL", 0)), values[0]["Value"].rstrip(".")
                )
            )
    return records


def pick(records: list[WeightedRecord], rng: random.Random) -> WeightedRecord:
    """One record, chosen as Route 53 chooses among a weighted set."""
    if not records:
        raise ResolveError("no weighted record")
    total = sum(record.weight for record in records)
    if total == 0:
        return rng.choice(records)
    point = rng.random() * total  # in [0, total): a record of weight 0 is never picked
    running = 0
    for record in records:
        running += record.weight
        if point < running:
            return record
    raise ResolveError(f"no record picked for point {point} of {total}")


class WeightedResolver:
    """A caching resolver for one name (use one per application thread, like one process's resolver cache)."""

    def __init__(
        self,
        client: Route53Client,
        zone_id: str,
        name: str,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        first_answer_age: float = 0.0,
    ) -> None:
        """`first_answer_age`: the share of a TTL (0 <= a < 1) the first answer is treated as already cached for."""
        if not 0.0 <= first_answer_age < 1.0:
            raise ValueError(f"first_answer_age must be in [0, 1), got {first_answer_age}")
        self._first_answer_age = first_answer_age
        self._client = client
        self._zone = zone_id
        self.name = name
        self._rng = rng or random.Random()  # noqa: S311  (picking a record by weight, not cryptography)
        self._clock = clock
        self._cached: Answer | None = None
        self.lookups = 0  # how often Route 53 was asked (cache misses)
        self._lock = threading.Lock()

    def resolve(self) -> Answer:
        with self._lock:
            now = self._clock()
            cached = self._cached
            if cached is not None and now < cached.expires_at:
                return Answer(cached.name, cached.record, cached.resolved_at, from_cache=True)
            record = pick(read_weighted(self._client, self._zone, self.name), self._rng)
            # A client that started earlier asked earlier: its first answer expires sooner than a whole TTL from now.
            resolved_at = now - (self._first_answer_age * record.ttl if self.lookups == 0 else 0.0)
            self.lookups += 1
            self._cached = Answer(self.name, record, resolved_at, from_cache=False)
            return self._cached


class Resolver(Protocol):
    """What the workload asks before each operation: one client's resolver, or a pool of clients."""

    def resolve(self) -> Answer: ...


class ClientPool:
    """`size` DNS clients of one name, each with its own cache, asked in turn (round robin).

    Client k's first answer counts as k/size of a TTL old, so the clients' caches expire spread over
    a TTL and the share of answers naming a target follows the weights as they move.
    """

    def __init__(
        self,
        client: Route53Client,
        zone_id: str,
        name: str,
        size: int,
        *,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if size < 1:
            raise ValueError(f"a client pool needs at least one client, got {size}")
        self.name = name
        self.clients = [
            WeightedResolver(
                client,
                zone_id,
                name,
                rng=random.Random(seed * 1000 + k),  # noqa: S311  (picking a record by weight, not cryptography)
                clock=clock,
                first_answer_age=k / size,
            )
            for k in range(size)
        ]
        self._next = 0
        self._lock = threading.Lock()

    def resolve(self) -> Answer:
        with self._lock:
            chosen = self.clients[self._next]
            self._next = (self._next + 1) % len(self.clients)
        return chosen.resolve()

    @property
    def lookups(self) -> int:
        """How often Route 53 was asked, all clients together."""
        return sum(client.lookups for client in self.clients)


class NameTable(Generic[T]):
    """CNAME targets (the source host, the Aurora endpoints) -> the local thing that plays them (a cluster)."""

    def __init__(self, entries: Mapping[str, T]) -> None:
        self._entries = {name.rstrip(".").lower(): value for name, value in entries.items()}

    def lookup(self, target: str) -> T:
        try:
            return self._entries[target.rstrip(".").lower()]
        except KeyError:
            raise ResolveError(f"{target} is not in the rehearsal's name table ({', '.join(sorted(self._entries))})") from None

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())


def describe(table: NameTable[Any], show: Callable[[Any], str]) -> list[str]:
    return [f"{name:<80} -> {show(value)}" for name, value in table.items()]
