"""Reading the validation history the quality gate keeps (`meta.validation_runs`)."""

from __future__ import annotations

import json

import duckdb


def read_gx_results(con: duckdb.DuckDBPyConnection, per_dataset: int = 10) -> list[dict]:
    """GX's result documents of each dataset's latest `per_dataset` validations, oldest first.

    Each is named after the load it decided (`meta.run_id.run_name` = load_id), so a Data Docs
    page leads back to `meta.load_log`. A warehouse from before validation history has none.
    """
    try:
        rows = con.execute("""
            select load_id, validated_at, cast(gx_result as varchar) from meta.validation_runs
            where gx_result is not null
            qualify row_number() over (partition by dataset order by validated_at desc) <= ?
            order by dataset, validated_at
        """, [per_dataset]).fetchall()
    except duckdb.CatalogException:
        return []
    results = []
    for load_id, validated_at, document in rows:
        result = json.loads(document)
        result.setdefault("meta", {})["run_id"] = {"run_name": load_id,
                                                   "run_time": validated_at.isoformat()}
        results.append(result)
    return results
