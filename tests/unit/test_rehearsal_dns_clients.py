"""The rehearsal's DNS clients (no servers): each caches for the record's TTL, together they follow the weights."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tools.rehearsal.resolver import ClientPool, WeightedResolver

ZONE, NAME = "Z1", "reader.db.example"
SOURCE, AURORA = "onprem.example", "aurora.cluster-ro-x.example"
TTL = 60


class FakeRoute53:
    """ListResourceRecordSets over a weighted CNAME pair whose Aurora weight the test moves; counts the questions."""

    def __init__(self, aurora_weight: int = 0, ttl: int = TTL) -> None:
        self.aurora_weight = aurora_weight
        self.ttl = ttl
        self.questions = 0

    def list_resource_record_sets(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["HostedZoneId"] == ZONE and kwargs["StartRecordName"] == NAME
        self.questions += 1
        return {
            "ResourceRecordSets": [
                self._record("source", 100 - self.aurora_weight, SOURCE),
                self._record("aurora", self.aurora_weight, AURORA),
                {"Name": "other.db.example.", "Type": "CNAME", "SetIdentifier": "x", "Weight": 100, "TTL": 1},
            ]
        }

    def _record(self, set_id: str, weight: int, target: str) -> dict[str, Any]:
        return {
            "Name": f"{NAME}.",
            "Type": "CNAME",
            "SetIdentifier": set_id,
            "Weight": weight,
            "TTL": self.ttl,
            "ResourceRecords": [{"Value": f"{target}."}],
        }


def _pool(route53: FakeRoute53, now: list[float], size: int = 20) -> ClientPool:
    return ClientPool(route53, ZONE, NAME, size, seed=3, clock=lambda: now[0])  # type: ignore[arg-type]


def test_each_client_asks_route53_once_per_ttl_and_the_first_answers_expire_spread_over_a_ttl() -> None:
    route53, now = FakeRoute53(), [1_000.0]
    pool = _pool(route53, now)
    for _ in range(20 * 5):  # five rounds at one moment: every client asked once, then answers from its cache
        assert pool.resolve().target == SOURCE
    assert [client.lookups for client in pool.clients] == [1] * 20
    # Client k's first answer counts as k/20 of a TTL old: it expires at (1 - k/20) * TTL.
    now[0] += TTL / 2 + 0.01
    for _ in range(20):
        pool.resolve()
    assert [client.lookups for client in pool.clients] == [1] * 10 + [2] * 10  # k = 10..19 expired
    # An answer fetched now lives a whole TTL: client 19 asks again only a TTL after its second question.
    now[0] += TTL - 0.02
    for _ in range(20):
        pool.resolve()
    assert pool.clients[19].lookups == 2
    assert pool.lookups == route53.questions


def test_one_client_keeps_its_answer_for_the_ttl_whatever_the_weights_do() -> None:
    route53, now = FakeRoute53(), [0.0]
    client = WeightedResolver(route53, ZONE, NAME, clock=lambda: now[0])  # type: ignore[arg-type]
    assert client.resolve().target == SOURCE
    route53.aurora_weight = 100
    now[0] = TTL - 0.01
    assert (client.resolve().target, client.lookups) == (SOURCE, 1)
    now[0] = TTL
    assert (client.resolve().target, client.lookups) == (AURORA, 2)


def _read_share_per_second(pool: ClientPool, now: list[float], route53: FakeRoute53, seconds: int) -> list[float]:
    """A read a second per client, each asking the next client; the weight moves 10 -> 25 -> 50 -> 100 % every 5 s from t=10."""
    steps = {10: 10, 15: 25, 20: 50, 25: 100}
    shares = []
    for second in range(seconds):
        route53.aurora_weight = steps.get(second, route53.aurora_weight)
        on_aurora, reads = 0, len(pool.clients)
        for read in range(reads):
            now[0] = second + read / reads
            on_aurora += pool.resolve().target == AURORA
        shares.append(on_aurora / reads)
    return shares


def test_the_read_share_follows_the_weights_step_by_step_instead_of_jumping() -> None:
    route53, now = FakeRoute53(), [0.0]
    shares = _read_share_per_second(_pool(route53, now), now, route53, 120)
    assert max(shares[:10]) == 0.0  # weight 0: never Aurora
    # Weight 100 from t=25: within one TTL (+1 s) every client's cache has expired and named Aurora.
    assert all(share == 1.0 for share in shares[25 + TTL + 1 :])
    assert shares[25 + TTL - 10] < 1.0  # ... and not before: the clients move one after another
    # No jump: from one second to the next the share moves by at most two clients of 20 (about one expires a second).
    assert max(abs(b - a) for a, b in itertools.pairwise(shares)) <= 0.1
    # In between, the share passes through the middle: it follows the weights gradually.
    assert any(0.3 <= share <= 0.7 for share in shares[30:80])


def test_a_single_client_moves_all_at_once_where_the_pool_moves_gradually() -> None:
    route53, now = FakeRoute53(), [0.0]
    shares = _read_share_per_second(_pool(route53, now, size=1), now, route53, 120)
    assert set(shares) == {0.0, 1.0}  # all reads on one side or the other: the picture's old jump


def test_a_pool_answers_by_weight_like_route53() -> None:
    route53, now = FakeRoute53(aurora_weight=25), [0.0]
    pool = _pool(route53, now, size=40)
    answers = []
    for _ in range(30):  # 30 TTLs: every client asks 30 times
        now[0] += TTL
        answers += [pool.resolve().target == AURORA for _ in range(40)]
    assert 0.2 < sum(answers) / len(answers) < 0.3


@pytest.mark.parametrize("size", [0, -1])
def test_a_pool_needs_a_client(size: int) -> None:
    with pytest.raises(ValueError, match="at least one client"):
        ClientPool(FakeRoute53(), ZONE, NAME, size)  # type: ignore[arg-type]
