"""The province's lake (issue 14): a local PostgreSQL server holding the DuckLake catalog.

`lake.postgres` runs the server (init, start, stop, status) and creates the catalog database with
its writer and read-only roles; `warehouse.lake` connects DuckDB to the lake.
"""
