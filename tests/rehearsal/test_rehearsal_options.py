"""--tables and --rtt-ms reach the rehearsal's Options; the operator's URL goes through the proxy only when asked."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tools.dbservers import PostgresServer
from tools.rehearsal import __main__ as cli
from tools.rehearsal.clusters import Cluster


def test_the_options_default_to_todays_rehearsal() -> None:
    args = cli.parser().parse_args([])
    assert args.tables == 0
    assert args.rtt_ms == 0.0


def test_tables_and_rtt_are_parsed() -> None:
    args = cli.parser().parse_args(["--tables", "2000", "--rtt-ms", "20"])
    assert (args.tables, args.rtt_ms) == (2000, 20.0)


@pytest.mark.parametrize("option", ["--tables", "--rtt-ms"])
def test_negative_values_are_refused(option: str) -> None:
    with pytest.raises(SystemExit):
        cli.parser().parse_args([option, "-1"])


def test_operator_url_goes_through_the_proxy_port_only_when_set() -> None:
    server = PostgresServer(port=5555, directory=Path("/nonexistent"), password="p:w/@", settings={})
    direct = Cluster("source", server, "app-password")
    assert direct.operator_url() == direct.admin_url()
    proxied = Cluster("source", server, "app-password", operator_port=6666)
    parts = urlsplit(proxied.operator_url())
    assert (parts.hostname, parts.port, parts.path) == ("127.0.0.1", 6666, "/appdb")
    assert urlsplit(proxied.admin_url()).port == 5555  # the replication and everything else stay direct
    assert parts.password == urlsplit(direct.admin_url()).password
