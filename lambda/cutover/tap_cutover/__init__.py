"""tap-migrate cutover Lambda: moves reads, then the writer, from the on-prem source to Aurora.

Modules: ``settings`` (environment), ``state`` (persisted state), ``logic`` (pure decisions: the facade over
``triggers``, ``gates``, ``decision``, ``phases``, ``commands``, ``evidence``, ``data_proof``, ``validation``),
``ports`` (what the engine needs, as protocols), ``aws`` (the boto3 adapters), ``engine`` (applies decisions
under the lock, with ``lock``, ``commit``, ``reconcile``, ``notify``, ``result``), ``log``, ``handler``
(Lambda entry point). This folder is exactly what ships in the Lambda zip; the operator's CLI and database
code live in the top-level ``tap_operator``.
Kept import-free so that importing the handler stays cheap.
"""
