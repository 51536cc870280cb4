"""tap-migrate cutover: moves reads, then the writer, from the on-prem source to Aurora.

Modules: ``settings`` (environment), ``state`` (persisted state), ``logic`` (pure decisions),
``ports`` (what the engine needs, as protocols), ``aws`` (the boto3 adapters), ``engine`` (applies
decisions under the lock), ``log``, ``handler`` (Lambda entry point), ``cli`` (operator commands;
with ``writer_move``, ``reverse_dms`` and ``databases/`` it is left out of the Lambda zip).
Kept import-free so that importing the handler stays cheap.
"""
