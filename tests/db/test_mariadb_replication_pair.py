"""tools/dbservers.mariadb_replication_pair(): the MariaDB primary -> replica pair the MySQL-family writer move (and a
MariaDB rehearsal) runs on. Its own servers, so the checks on starting and removing them are this test's alone."""

from __future__ import annotations

import socket

import pytest

from tools.dbservers import DatabaseServerError, mariadb_replication_pair


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_forward_replicates_reverse_starts_from_now_and_both_servers_are_removed() -> None:
    with mariadb_replication_pair(ssl=False) as pair:
        primary, replica = pair.primary, pair.replica
        folders, ports = (primary.directory, replica.directory), (primary.port, replica.port)
        assert pair.forward.running() and not pair.reverse.running()
        # The setup's own statements (each server's users) are not replicated: replication started clean.
        assert pair.forward.status()["Last_SQL_Errno"] == 0

        primary.create_database("appdb")
        primary.execute("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB", "appdb")
        primary.execute("INSERT INTO t (v) VALUES ('from the primary')", "appdb")
        pair.forward.wait_caught_up()
        assert replica.query("SELECT v FROM t", "appdb") == [("from the primary",)]

        # Written on the replica before the reverse starts: "from now" means it never travels back.
        replica.execute("INSERT INTO t (v) VALUES ('before the reverse')", "appdb")
        pair.forward.stop()
        pair.reverse.start()
        replica.execute("INSERT INTO t (v) VALUES ('after the reverse')", "appdb")
        pair.reverse.wait_caught_up()
        assert primary.query("SELECT v FROM t ORDER BY id", "appdb") == [("from the primary",), ("after the reverse",)]
        assert not pair.forward.running()

        # reset(): no reverse, both writable, forward from now.
        primary.execute("SET GLOBAL read_only = ON")
        pair.reset()
        assert pair.forward.running() and not pair.reverse.running()
        primary.execute("INSERT INTO t (v) VALUES ('after the reset')", "appdb")
        pair.forward.wait_caught_up()
        assert ("after the reset",) in replica.query("SELECT v FROM t", "appdb")
        pair.drop_database("appdb")
        assert not primary.query("SHOW DATABASES LIKE 'appdb'") and not replica.query("SHOW DATABASES LIKE 'appdb'")
    assert not any(folder.exists() for folder in folders)
    assert not any(_listening(port) for port in ports)


def test_a_replica_that_cannot_catch_up_says_so() -> None:
    with mariadb_replication_pair(ssl=False) as pair:
        pair.primary.create_database("appdb")
        pair.primary.execute("CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB", "appdb")
        pair.forward.wait_caught_up()
        pair.replica.execute("INSERT INTO t VALUES (1)", "appdb")
        pair.primary.execute("INSERT INTO t VALUES (1)", "appdb")  # a duplicate key on the replica stops its SQL thread
        with pytest.raises(DatabaseServerError, match="did not reach"):
            pair.forward.wait_caught_up(timeout_s=2)
        assert pair.forward.status()["Last_SQL_Errno"] == 1062
