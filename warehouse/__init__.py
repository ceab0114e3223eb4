"""The DuckDB warehouse: connection, raw loading, the SQL-model runner and KPI read-out."""
