"""Policy gate: small pure rules over the synthesized Terraform JSON (one rule per file).

`gate.evaluate` runs every rule and drops the findings listed, each with a reason, in
`suppressions.toml`; `main.py` fails synthesis on anything left.
"""
