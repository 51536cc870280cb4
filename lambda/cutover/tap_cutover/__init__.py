"""tap-migrate cutover: moves reads, then the writer, from the on-prem source to Aurora.

Modules: ``settings`` (environment), ``state`` (persisted state), ``logic`` (pure decisions),
``adapters`` (AWS + engine), ``handler`` (Lambda entry point), ``cli`` (operator commands).
Kept import-free so that importing the handler stays cheap.
"""
