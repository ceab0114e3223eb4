"""`carbonpeak quality docs`: GX Data Docs from the suites and the validations kept in the warehouse."""

from __future__ import annotations

from cli.main import main
from warehouse.db import connect


def test_quality_docs_show_every_suite_and_the_latest_validations(warehouse_copy, tmp_path,
                                                                  monkeypatch, capsys,
                                                                  mianyang_sources):
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse_copy))
    out = tmp_path / "site"
    assert main(["quality", "docs", "--out", str(out)]) == 0
    assert "Data Docs written" in capsys.readouterr().out
    con = connect(warehouse_copy, read_only=True)
    load_ids = [r[0] for r in con.execute("select load_id from meta.validation_runs").fetchall()]
    con.close()
    datasets = len(mianyang_sources.datasets())  # one validation each in the default run
    assert len(load_ids) == datasets == 26
    suites = {p.stem for p in (out / "expectations").glob("*.html")}
    assert {"energy__balance", "power__generation", "forestry__forest_resources"} <= suites
    # one suite per raw table: the day files and the day so far fill one
    assert len(suites) == len({s.table_name for s in mianyang_sources.datasets()}) == 25
    pages = [p.read_text(encoding="utf-8") for p in (out / "validations").rglob("*.html")]
    assert len(pages) == datasets
    # each validation page is named after the load it decided (meta.load_log.load_id)
    assert all(any(load_id in page for page in pages) for load_id in load_ids)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "https://" not in index.split("<body")[0]  # nothing in the head loads from the network
