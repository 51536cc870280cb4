"""A TCP proxy on 127.0.0.1 that adds a round-trip time: what a VPN between the operator and the databases costs.

    with LatencyProxy(("127.0.0.1", 5432), rtt_ms=20) as proxy:
        psycopg.connect(host="127.0.0.1", port=proxy.port, ...)   # every round trip now takes >= 20 ms more

Every chunk read from one side is written to the other RTT/2 after it arrived, in each direction and in
order (a chunk never overtakes an earlier one; chunks in flight do not wait for each other, so a stream
keeps its bandwidth). A request and its answer therefore cost at least RTT, like a wire with that delay.

It counts what passed: connections, bytes and chunks each way, and the client's *turns* (a chunk from the
client after the server last spoke, or the first one): each turn is one request/response round trip of a
client that waits for answers, i.e. how many RTTs a conversation paid.

Bounded: it listens on 127.0.0.1 only, forwards only to a loopback address, holds at most
`max_connections` connections (more are closed at once) and `MAX_QUEUED_CHUNKS` chunks in flight per
direction (then it stops reading that side), and stops by itself after `max_lifetime_s` (or when the
`with` block exits, or on `close()`), closing every connection it holds.

    python -m tools.rehearsal.latency_proxy --target 127.0.0.1:5432 --rtt-ms 20 [--port N] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType

LISTEN_HOST = "127.0.0.1"
CHUNK_BYTES = 64 * 1024
MAX_QUEUED_CHUNKS = 256
DEFAULT_MAX_CONNECTIONS = 256
DEFAULT_MAX_LIFETIME_SECONDS = 4 * 3600.0
START_TIMEOUT_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 5.0
MAX_RTT_MS = 10_000.0


class LatencyProxyError(RuntimeError):
    pass


@dataclass
class ProxyStats:
    """What passed through the proxy (updated by its event loop; read them at any time)."""

    connections: int = 0
    refused: int = 0
    bytes_up: int = 0  # client -> server
    bytes_down: int = 0
    chunks_up: int = 0
    chunks_down: int = 0
    turns: int = 0  # client -> server chunks that follow an answer (or open the conversation): round trips paid

    def to_dict(self) -> dict[str, int]:
        return {
            "connections": self.connections,
            "refused": self.refused,
            "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down,
            "chunks_up": self.chunks_up,
            "chunks_down": self.chunks_down,
            "round_trips": self.turns,
        }


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class _Conversation:
    """One client connection: whether the server spoke since the client's last chunk (for counting turns)."""

    server_spoke: bool = True


@dataclass
class LatencyProxy:
    """Forward 127.0.0.1:<port> to `target` with `rtt_ms` of round-trip delay; a context manager (a thread of its own)."""

    target: tuple[str, int]
    rtt_ms: float
    port: int = 0  # 0: a free port, read .port after start()
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_lifetime_s: float = DEFAULT_MAX_LIFETIME_SECONDS
    stats: ProxyStats = field(default_factory=ProxyStats)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _stopping: asyncio.Event | None = field(default=None, init=False, repr=False)
    _ready: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _error: BaseException | None = field(default=None, init=False, repr=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False, repr=False)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set, init=False, repr=False)
    _active: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        host, port = self.target
        if not _loopback(host):
            raise LatencyProxyError(f"the latency proxy forwards to loopback addresses only, not {host}")
        if not 0 < port < 65536:
            raise LatencyProxyError(f"target port {port} is out of range")
        if not 0 <= self.rtt_ms <= MAX_RTT_MS:
            raise LatencyProxyError(f"rtt_ms must be in [0, {MAX_RTT_MS:g}], got {self.rtt_ms}")
        if self.max_connections < 1 or self.max_lifetime_s <= 0:
            raise LatencyProxyError("max_connections must be >= 1 and max_lifetime_s > 0")

    @property
    def host(self) -> str:
        return LISTEN_HOST

    @property
    def delay_s(self) -> float:
        """The delay each chunk gets in each direction: half the round trip."""
        return self.rtt_ms / 2000.0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- lifecycle (caller's thread) --------------------------------------------------

    def start(self) -> LatencyProxy:
        if self._thread is not None:
            raise LatencyProxyError("the latency proxy was started already")
        self._thread = threading.Thread(target=self._run, name=f"latency-proxy-{self.target[1]}", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS) or self._error is not None:
            self.close()
            raise LatencyProxyError(f"the latency proxy did not start: {self._error or 'timed out'}")
        return self

    def close(self) -> None:
        """Stop listening and close every connection; returns when the proxy's thread has ended (bounded)."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile (lifetime over)
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_SECONDS)

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # -- the event loop (the proxy's thread) ------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to start(); the thread must not die silently
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._accept, LISTEN_HOST, self.port, reuse_address=True)
        self.port = int(server.sockets[0].getsockname()[1])
        self._ready.set()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.max_lifetime_s)
        finally:
            server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=STOP_TIMEOUT_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), STOP_TIMEOUT_SECONDS)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._active >= self.max_connections:
            self.stats.refused += 1
            client_writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._active += 1
        self._tasks.add(task)
        self._writers.add(client_writer)
        server_writer: asyncio.StreamWriter | None = None
        pumps: list[asyncio.Task[None]] = []
        try:
            host, port = self.target
            server_reader, upstream = await asyncio.wait_for(asyncio.open_connection(host, port), START_TIMEOUT_SECONDS)
            server_writer = upstream
            self._writers.add(upstream)
            self.stats.connections += 1
            conversation = _Conversation()
            pumps = [
                asyncio.ensure_future(self._pump(client_reader, upstream, conversation, upstream=True)),
                asyncio.ensure_future(self._pump(server_reader, client_writer, conversation, upstream=False)),
            ]
            # Both directions until both ended; an error on either side ends the connection.
            await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
        except (OSError, TimeoutError):
            pass
        finally:
            for pump in pumps:
                if not pump.done():
                    pump.cancel()
                elif not pump.cancelled():
                    pump.exception()  # retrieved: a reset connection is an ordinary end here
            for writer in (client_writer, server_writer):
                if writer is not None:
                    self._writers.discard(writer)
                    writer.transport.abort()
            self._tasks.discard(task)
            self._active -= 1

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conversation: _Conversation, *, upstream: bool
    ) -> None:
        """Read chunks from one side and deliver each to the other `delay_s` after it arrived, in order."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(MAX_QUEUED_CHUNKS)
        loop = asyncio.get_running_loop()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:  # end of stream: pass the half-close on
                    if writer.can_write_eof():
                        with contextlib.suppress(OSError):
                            writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()

        delivering = asyncio.ensure_future(deliver())
        try:
            while True:
                chunk = await reader.read(CHUNK_BYTES)
                if chunk:
                    self._count(chunk, conversation, upstream=upstream)
                await queue.put((loop.time() + self.delay_s, chunk))
                if not chunk:
                    break
            await delivering
        except (OSError, asyncio.CancelledError):
            delivering.cancel()
            raise
        finally:
            if not delivering.done():
                delivering.cancel()

    def _count(self, chunk: bytes, conversation: _Conversation, *, upstream: bool) -> None:
        if upstream:
            self.stats.bytes_up += len(chunk)
            self.stats.chunks_up += 1
            if conversation.server_spoke:
                self.stats.turns += 1
                conversation.server_spoke = False
        else:
            self.stats.bytes_down += len(chunk)
            self.stats.chunks_down += 1
            conversation.server_spoke = True


@contextlib.contextmanager
def latency_proxies(targets: Sequence[tuple[str, int]], rtt_ms: float) -> Iterator[list[LatencyProxy]]:
    """One proxy per target, all stopped when the block exits."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(LatencyProxy(target, rtt_ms)) for target in targets]


def _target(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text}")
    return host, int(port)


def main(argv: Sequence[str] | None = None) -> int:
    description = __doc__.split("\n\n")[0] if __doc__ else None
    p = argparse.ArgumentParser(prog="python -m tools.rehearsal.latency_proxy", description=description)
    p.add_argument("--target", type=_target, required=True, help="loopback HOST:PORT to forward to")
    p.add_argument("--rtt-ms", type=float, required=True, help="round-trip time to add, milliseconds")
    p.add_argument("--port", type=int, default=0, help="port to listen on, 127.0.0.1 (a free one)")
    p.add_argument("--seconds", type=float, default=3600.0, help="stop after this many seconds (3600)")
    args = p.parse_args(argv)
    try:
        proxy = LatencyProxy(args.target, args.rtt_ms, port=args.port, max_lifetime_s=args.seconds)
        with proxy:
            sys.stdout.write(f"{proxy.host}:{proxy.port} -> {args.target[0]}:{args.target[1]} with {args.rtt_ms:g} ms RTT\n")
            sys.stdout.flush()
            with contextlib.suppress(KeyboardInterrupt):
                end = time.monotonic() + args.seconds
                while proxy.running and time.monotonic() < end:
                    time.sleep(0.5)
            sys.stdout.write(f"{proxy.stats.to_dict()}\n")
    except LatencyProxyError as error:
        sys.stderr.write(f"latency proxy: {error}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
