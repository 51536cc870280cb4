"""Endpoint parsing (URLs, Secrets Manager secrets), connection errors, and DMS selection-rule semantics."""

from __future__ import annotations

import json
from urllib.parse import quote

import boto3
import pytest
from moto import mock_aws

from tap_operator.databases import (
    DatabaseError,
    EndpointError,
    MappingError,
    TableName,
    endpoint_from_secret,
    parse_rules,
    parse_url,
    read_secret_string,
    run_preflight,
    select_tables,
)
from tap_operator.databases.checks import PreflightOptions
from tools.dbservers import PostgresServer, free_port

from .conftest import mappings

PASSWORD = "s3cr3t:/@%?#&"


def test_urls_decode_credentials_and_hide_the_password() -> None:
    endpoint = parse_url("postgresql://app%40corp:s3cr3t%3A%2F%40%25%3F%23%26@db.example.com:6543/app%20db?sslmode=require")
    assert (endpoint.engine, endpoint.user, endpoint.password) == ("postgres", "app@corp", PASSWORD)
    assert (endpoint.host, endpoint.port, endpoint.database, endpoint.ssl_mode) == ("db.example.com", 6543, "app db", "require")
    for shown in (str(endpoint), repr(endpoint), endpoint.label):
        assert PASSWORD not in shown and "s3cr3t" not in shown
    assert parse_url("postgres://u:p@h/db").port == 5432
    assert parse_url("mysql://u:p@h/appdb?ssl=required").ssl_mode == "require"
    assert parse_url("mariadb://u:p@h").engine == "mariadb"
    assert parse_url("mysql://u:p@h:3307/").database == ""


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "oracle://u:secretpw@h/db",
            "scheme 'oracle' is not supported; use postgresql:// (or postgres://), mysql:// or mariadb://",
        ),
        ("postgresql://u:secretpw@h:99999/db", "the port is not a number"),
        ("postgresql://u:secretpw@h:5432", "no database"),
        ("postgresql://u:secretpw@h/db?sslmode=sometimes", "ssl mode 'sometimes' is not recognised"),
        ("postgresql://u:secretpw@h/db?sslmode=verify-full", "needs the CA certificate"),
        ("postgresql://u:secretpw@h/db?color=blue", "query parameter 'color' is not supported"),
    ],
)
def test_bad_urls_name_the_problem_without_the_password(url: str, message: str) -> None:
    with pytest.raises(EndpointError, match=None) as raised:
        parse_url(url, "source")
    assert message in str(raised.value)
    assert "secretpw" not in str(raised.value)


def test_secret_json_fills_an_endpoint_and_missing_fields_are_named() -> None:
    secret = json.dumps({"username": "dms", "password": PASSWORD, "host": "db.internal", "port": "5433", "engine": "postgres"})
    endpoint = endpoint_from_secret(secret, engine="postgres", default_database="appdb", ssl_mode="require", role="source")
    assert (endpoint.user, endpoint.password, endpoint.port, endpoint.database) == ("dms", PASSWORD, 5433, "appdb")
    with pytest.raises(EndpointError, match="source secret: field 'host' is missing or empty") as raised:
        endpoint_from_secret(json.dumps({"username": "dms", "password": PASSWORD}), engine="postgres", default_database="a",
                             role="source")  # fmt: skip
    assert PASSWORD not in str(raised.value)
    with pytest.raises(EndpointError, match="its value is not JSON"):
        endpoint_from_secret("not json " + PASSWORD, engine="postgres", default_database="a")
    with pytest.raises(EndpointError, match="does not match the configured engine"):
        endpoint_from_secret(secret, engine="mysql", default_database="a")


def test_reading_a_secret_through_boto3() -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="tap/source", SecretString='{"username": "u"}')["ARN"]
        assert read_secret_string(client, arn, "source") == '{"username": "u"}'
        with pytest.raises(EndpointError, match=r"source secret .*nope.*: cannot read it \(ResourceNotFoundException\)"):
            read_secret_string(client, "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope", "source")


def test_connection_errors_are_one_clear_line_without_the_password(pg: PostgresServer) -> None:
    pg.create_user("err_user", "right-password")
    cases = [
        (pg.url("postgres", "err_user", PASSWORD), "source: authentication failed for user err_user on 127.0.0.1:"),
        (pg.url("no_such_db"), "source: database no_such_db does not exist on 127.0.0.1:"),
        (f"postgresql://tap:{quote(pg.password, safe='')}@127.0.0.1:{free_port()}/postgres", "source: cannot reach 127.0.0.1:"),
        (f"mysql://tap:{quote(PASSWORD, safe='')}@127.0.0.1:{free_port()}/x", "source: cannot reach 127.0.0.1:"),
    ]
    for url, message in cases:
        with pytest.raises(DatabaseError) as raised:
            run_preflight(parse_url(url, "source"), None, mappings(("public", "%", "include")), PreflightOptions())
        text = str(raised.value)
        assert message in text
        assert "\n" not in text
        assert PASSWORD not in text and pg.password not in text


def test_selection_wildcards_exclusions_and_explicit_rules_follow_dms() -> None:
    catalog = [TableName("public", name) for name in ("orders", "order_items", "orders_2024", "ordersX", "users", "tmp_a")]
    catalog += [TableName("audit", "log"), TableName("public", "a_b"), TableName("public", "axb")]
    rules = parse_rules(
        json.dumps(
            {
                "rules": [
                    {"rule-type": "transformation", "rule-id": "9", "rule-name": "lower", "rule-target": "schema",
                     "object-locator": {"schema-name": "%"}, "rule-action": "convert-lowercase"},
                    {"rule-type": "selection", "rule-id": "1", "rule-name": "orders",
                     "object-locator": {"schema-name": "public", "table-name": "order%"}, "rule-action": "include"},
                    {"rule-type": "selection", "rule-id": "2", "rule-name": "no-yearly",
                     "object-locator": {"schema-name": "public", "table-name": "orders_____"}, "rule-action": "exclude"},
                    {"rule-type": "selection", "rule-id": "3", "rule-name": "underscore",
                     "object-locator": {"schema-name": "public", "table-name": "a[_]b"}, "rule-action": "include"},
                    {"rule-type": "selection", "rule-id": "4", "rule-name": "users",
                     "object-locator": {"schema-name": "public", "table-name": "users"}, "rule-action": "explicit"},
                ]
            }
        )
    )  # fmt: skip
    assert [rule.rule_id for rule in rules] == ["1", "2", "3", "4"]  # the transformation rule selects nothing
    selected = [str(table) for table in select_tables(rules, catalog)]
    # `_` matches one character (orders_2024 has 5 after "orders": excluded); [_] is a literal underscore (axb stays out).
    assert selected == ["public.a_b", "public.order_items", "public.orders", "public.ordersX", "public.users"]
    missing = parse_rules(mappings(("public", "invoices", "explicit")))
    with pytest.raises(MappingError, match=r"explicit table public\.invoices does not exist on the source"):
        select_tables(missing, catalog)
    with pytest.raises(MappingError, match="rule-action 'maybe'"):
        parse_rules(mappings(("public", "%", "maybe")))
    with pytest.raises(MappingError, match="not valid JSON"):
        parse_rules("{")
