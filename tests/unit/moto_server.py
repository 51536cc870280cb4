"""One moto server on loopback for the emulator-patch tests, and a reset between scenarios."""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Iterator

from moto.server import ThreadedMotoServer


def serve() -> Iterator[str]:
    """A ThreadedMotoServer on a free port (in-process, so moto patches applied here apply to it)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def reset(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.request("POST", "/moto-api/reset")
        assert connection.getresponse().status == 200
    finally:
        connection.close()
