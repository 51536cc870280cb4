"""What runs on the operator's machine: the `./cutover` CLI and everything that touches a database.

Modules: ``cli`` (the commands), ``writer_move`` (fence -> drain -> sequences -> [reverse start] -> flip,
and the writer rollback), ``reverse_dms`` (the stack's reverse DMS task), ``cdc_position`` (resume
points), ``dbcli`` / ``database_access`` (config + secrets -> connections), ``databases/`` (the only code
that opens a database connection, one module per engine family).

Arrows go one way: this package imports the Lambda package's core (``tap_cutover``: logic, engine,
state, settings, ports, aws) and ``lib.config``; neither imports anything from here.
"""
