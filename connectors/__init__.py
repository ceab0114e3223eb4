"""Fetch and parse departmental data: nothing here touches DuckDB or Great Expectations."""
