"""Terraform ``jsonencode`` for documents that CDKTF writes into an HCL expression.

CDKTF 0.21's ``Fn.jsonencode`` writes the document's strings into the HCL expression as they
are, so a double quote (in a dashboard title, a markdown text, an event pattern) would end the
literal and break ``terraform validate``. Every jsonencode in the stack goes through here.
"""

from __future__ import annotations

from typing import Any

from cdktf import Fn


def jsonencode(document: Any) -> str:
    """``Fn.jsonencode`` of the document, its strings escaped for the HCL string literal."""
    return Fn.jsonencode(escaped_for_jsonencode(document))


def escaped_for_jsonencode(node: Any) -> Any:
    """The document with every string escaped for an HCL string literal.

    Token strings (``${TfToken[...]}``) hold neither character and pass through unchanged.
    """
    if isinstance(node, str):
        return node.replace("\\", "\\\\").replace('"', '\\"')
    if isinstance(node, list):
        return [escaped_for_jsonencode(item) for item in node]
    if isinstance(node, dict):
        return {escaped_for_jsonencode(key): escaped_for_jsonencode(value) for key, value in node.items()}
    return node
