"""Comparing a lake with the DuckDB file, row for row, apart from each run's own lineage."""

from __future__ import annotations

# what the two warehouses must hold alike: the raw rows (without their load ids and times), the
# marts and the KPI layer
COMPARED = ("kpi.kpi_status", "kpi.kpi_series", "kpi.kpi_early_warning",
            "marts.mart_energy__consumption_yearly", "marts.mart_buildings__energy_daily",
            "raw.energy__balance", "raw.buildings__meter_readings", "meta.quarantine")


def rows(con, relation: str) -> list[tuple]:
    columns = [c for (c,) in con.execute(
        "select column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ? order by column_index", relation.split(".")).fetchall()]
    if not columns:  # a view
        columns = [d[0] for d in con.execute(f"select * from {relation} limit 0").description]
    # lineage differs by run (load ids, times, the server's port); the hash of the values does not
    kept = ", ".join(f'"{c}"' for c in columns if not c.startswith("_") or c == "_row_hash")
    return comparable(con.execute(f"select {kept} from {relation}").fetchall())


def comparable(got: list[tuple]) -> list[tuple]:
    """Rows in a fixed order, floats to 9 significant digits (sums over Parquet and the file differ)."""
    return sorted((tuple(f"{v:.9g}" if isinstance(v, float) else v for v in r) for r in got), key=repr)


def raw_tables(sources, departments) -> list[str]:
    """`raw.<table>` of every dataset of the named departments, once each."""
    return list(dict.fromkeys(f"raw.{spec.table_name}" for name in departments
                              for spec in sources.department(name).datasets))
