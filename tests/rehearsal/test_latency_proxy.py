"""The latency proxy: a round trip costs the RTT, bytes arrive intact and in order, many connections at once, bounded."""

from __future__ import annotations

import os
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.rehearsal.conftest import Servers
from tools.rehearsal.latency_proxy import LatencyProxy, LatencyProxyError


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    server = _EchoServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", int(server.server_address[1])
    server.shutdown()
    server.server_close()


def _exchange(port: int, payload: bytes) -> tuple[bytes, float]:
    """Send the payload, read as many bytes back; returns them and the seconds it took."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        started = time.monotonic()
        connection.sendall(payload)
        received = bytearray()
        while len(received) < len(payload):
            chunk = connection.recv(65536)
            assert chunk, "the proxy closed the connection early"
            received += chunk
        return bytes(received), time.monotonic() - started


def test_a_round_trip_costs_the_rtt_and_bytes_arrive_intact(echo: tuple[str, int]) -> None:
    with LatencyProxy(echo, rtt_ms=50) as proxy:
        _exchange(proxy.port, b"warm")  # the first connect is not what is measured
        timings = []
        for _ in range(3):
            answer, seconds = _exchange(proxy.port, b"ping")
            assert answer == b"ping"
            timings.append(seconds)
        assert min(timings) >= 0.050
        assert max(timings) < 0.150
        payload = os.urandom(2_000_000)  # many chunks each way, order and content kept
        answer, _ = _exchange(proxy.port, payload)
        assert answer == payload
        stats = proxy.stats.to_dict()
    assert stats["connections"] == 5
    assert stats["bytes_up"] == stats["bytes_down"] == 4 * 4 + len(payload)
    assert stats["round_trips"] >= 5


def test_many_connections_at_once_do_not_wait_for_each_other(echo: tuple[str, int]) -> None:
    with LatencyProxy(echo, rtt_ms=50) as proxy:
        payloads = [os.urandom(1000 + n) for n in range(40)]
        started = time.monotonic()
        with ThreadPoolExecutor(40) as pool:
            answers = list(pool.map(lambda payload: _exchange(proxy.port, payload)[0], payloads))
        elapsed = time.monotonic() - started
    assert answers == payloads
    assert elapsed < 2.0  # 40 x 50 ms one after the other would be 2 s


def test_zero_rtt_forwards_without_delay(echo: tuple[str, int]) -> None:
    with LatencyProxy(echo, rtt_ms=0) as proxy:
        _exchange(proxy.port, b"warm")
        answer, seconds = _exchange(proxy.port, b"x" * 100)
    assert answer == b"x" * 100
    assert seconds < 0.05


def test_it_stops_with_the_block_and_by_itself(echo: tuple[str, int]) -> None:
    with LatencyProxy(echo, rtt_ms=10) as proxy:
        port = proxy.port
        held = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert not proxy.running
    assert held.recv(10) == b""  # the connection it held was closed
    held.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    short = LatencyProxy(echo, rtt_ms=10, max_lifetime_s=0.3).start()
    time.sleep(1.0)
    assert not short.running
    short.close()


def test_connections_over_the_limit_are_closed(echo: tuple[str, int]) -> None:
    with LatencyProxy(echo, rtt_ms=0, max_connections=1) as proxy:
        first = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        first.sendall(b"a")
        assert first.recv(1) == b"a"
        second = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        assert second.recv(1) == b""
        second.close()
        first.close()
        assert proxy.stats.refused == 1


def test_only_loopback_targets() -> None:
    with pytest.raises(LatencyProxyError, match="loopback"):
        LatencyProxy(("10.0.0.1", 5432), rtt_ms=10)
    with pytest.raises(LatencyProxyError, match="rtt_ms"):
        LatencyProxy(("127.0.0.1", 5432), rtt_ms=-1)


def test_postgresql_over_tls_through_the_proxy(servers: Servers) -> None:
    server = servers.source
    with LatencyProxy((server.host, server.port), rtt_ms=20) as proxy:
        connection = psycopg.connect(
            host=proxy.host, port=proxy.port, user=server.superuser, password=server.password, dbname="postgres",
            sslmode="require", autocommit=True,
        )  # fmt: skip
        with connection:
            before = proxy.stats.turns
            started = time.monotonic()
            for _ in range(5):
                assert connection.execute("SELECT 1").fetchone() == (1,)
            elapsed = time.monotonic() - started
            assert proxy.stats.turns - before == 5
    assert elapsed >= 5 * 0.020
