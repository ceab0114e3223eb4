"""`carbonpeak kpi warnings` and the warning column of `kpi status`, on real warehouses.

`warning_warehouse` is the default scenario before the 2025 yearly energy statistics appear: the
2025 early warnings are current (raw coal 一级, energy per unit GDP and the non-fossil share 三级).
In the default scenario every year with monthly data already has its figure: nothing is current.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from cli.main import main
from cli.table import width
from publishing.report_chart import fmt
from publishing.status_words import warning_label
from warehouse.db import as_dicts

CARBONPEAK = Path(sys.executable).parent / "carbonpeak"


def model_rows(warehouse: Path, where: str) -> list[dict]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return as_dicts(con.execute(f"select * from kpi.kpi_early_warning where {where} "
                                    "order by kpi_id, year, through_month"))
    finally:
        con.close()


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def line_of(out: str, *words: str) -> str:
    found = [line for line in out.splitlines() if all(w in line for w in words)]
    assert len(found) == 1, (words, out)
    return found[0]


def column(out: str, title: str, line: str) -> str:
    """`line` from where the header's `title` starts, in display columns (CJK is two wide)."""
    header = out.splitlines()[0]
    at, i = width(header[:header.index(title)]), 0
    while width(line[:i]) < at:
        i += 1
    return line[i:]


def test_the_current_warnings_with_their_level_projection_and_reason(warning_warehouse, capsys):
    code, out, _ = run(capsys, "kpi", "warnings", "--warehouse", str(warning_warehouse))
    assert code == 0
    current = model_rows(warning_warehouse, "is_current")
    assert {(r["kpi_id"], r["year"], r["through_month"], r["warning_level"]) for r in current} == {
        ("raw_coal_consumption", 2025, 12, 1), ("energy_intensity_change", 2025, 12, 3),
        ("nonfossil_energy_share", 2025, 12, 3)}
    assert out.splitlines()[0].split() == ["KPI", "指标", "year", "months", "月份", "projected", "预计",
                                           "required", "要求", "level", "预警", "reason", "原因"]
    coal = next(r for r in current if r["kpi_id"] == "raw_coal_consumption")
    assert abs(coal["projected_value"] - 671) < 1
    line = line_of(out, "原煤消费量 raw coal consumption")
    assert " 2025 " in line and " 1–12月 " in line and " 671 万吨 " in line and " ≤ 660 " in line
    assert warning_label(1) in line and "一级预警（红色）：形势十分严峻 level 1 (red): very severe" in line
    assert f"{coal['warning_reason_zh']} / {coal['warning_reason_en']}" in line
    assert "差11，且较上年无改善" in line
    line = line_of(out, "单位地区生产总值能耗 energy use per unit GDP")
    assert " -14.19 % vs 2020 " in line and " ≤ -14 " in line and warning_label(3) in line
    line = line_of(out, "非化石能源消费比重")
    assert " 50.6 % " in line and " ≈ 45 " in line and warning_label(3) in line
    assert out.rstrip().endswith("3 current warning(s) shown")


def test_kpi_status_shows_each_checkpoint_s_current_warning(warning_warehouse, default_warehouse, capsys):
    code, out, _ = run(capsys, "kpi", "status", "--warehouse", str(warning_warehouse))
    assert code == 0
    header = out.splitlines()[0]
    assert header.index("status 状态") < header.index("warning 预警") < header.index("reason 原因")
    line = line_of(out, "原煤消费量 raw coal consumption", " 2025 ")
    assert "off_track" in line and column(out, "warning 预警", line).startswith("一级 red (2025 1–12月)  ")
    for name in ("单位地区生产总值能耗", "非化石能源消费比重"):
        line = line_of(out, name, " 2025 ")
        assert column(out, "warning 预警", line).startswith("三级 green (2025 1–12月)  ")
    # a checkpoint with no monthly data has none
    line = line_of(out, "森林覆盖率 forest coverage", " 2025 ")
    assert column(out, "warning 预警", line).startswith("—  ")
    assert "41 checkpoint(s) shown; 3 with a current early warning: `carbonpeak kpi warnings`" in out

    code, out, _ = run(capsys, "kpi", "status", "--warehouse", str(default_warehouse))
    assert code == 0 and "warning 预警" in out.splitlines()[0]
    assert "一级" not in out and "三级" not in out and "early warning" not in out
    line = line_of(out, "原煤消费量 raw coal consumption", " 2025 ")
    assert column(out, "warning 预警", line).startswith("—  ")


def test_no_current_warning_says_why(default_warehouse, capsys):
    assert model_rows(default_warehouse, "is_current") == []
    code, out, _ = run(capsys, "kpi", "warnings", "--warehouse", str(default_warehouse))
    assert code == 0
    assert out.splitlines() == [
        "暂无当期预警：有月度数据的年份均已公布全年数据，由指标状态按实际值评估。",
        "No warning is current: every year with monthly data already has its published yearly figure, "
        "which the KPI status judges itself.",
        "Every month of every year, with its published figure: carbonpeak kpi warnings --history"]


def test_history_lists_every_month_with_the_published_figure(default_warehouse, capsys):
    code, out, _ = run(capsys, "kpi", "warnings", "--history", "--kpi", "raw_coal_consumption",
                       "--year", "2024", "--warehouse", str(default_warehouse))
    assert code == 0
    rows = model_rows(default_warehouse, "kpi_id = 'raw_coal_consumption' and year = 2024")
    assert [r["through_month"] for r in rows] == list(range(1, 13))
    assert "actual 实际" in out.splitlines()[0]
    lines = out.splitlines()[2:-1]
    assert len(lines) == 12 and out.rstrip().endswith("12 row(s) shown")
    for row, line in zip(rows, lines, strict=True):
        months = "1月" if row["through_month"] == 1 else f"1–{row['through_month']}月"
        assert f" 2024  {months} " in line and f" {fmt(row['projected_value'])} 万吨 " in line, line
        assert f" {fmt(row['actual_value'])} " in line and warning_label(row["warning_level"]) in line
    # the barometer waits for the first quarter: no level before March
    assert [r["warning_level"] for r in rows[:3]] == [None, None, 1]
    assert "满3个月后开始预警" in lines[1]


def test_errors_are_one_line_without_a_traceback(default_warehouse, tmp_path, capsys):
    code, _, err = run(capsys, "kpi", "warnings", "--kpi", "forest_coverage", "--warehouse",
                       str(default_warehouse))
    assert code == 1 and err.count("\n") == 1
    assert err == ("carbonpeak: no early warning for KPI `forest_coverage`: only KPIs with monthly data "
                   "(kpis.yml `year_to_date:`) have one; these do: nonfossil_energy_share, "
                   "energy_intensity_change, raw_coal_consumption\n")

    code, _, err = run(capsys, "kpi", "warnings", "--warehouse", str(tmp_path / "none.duckdb"))
    assert code == 1 and "does not exist yet; run `carbonpeak run` first" in err

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    done = subprocess.run([str(CARBONPEAK), "kpi", "warnings", "--warehouse", str(empty)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == ("carbonpeak: `kpi.kpi_early_warning` does not exist yet in this warehouse; "
                           "run `carbonpeak run` (or `carbonpeak build`) first\n")


def test_help_explains_the_levels_with_examples():
    done = subprocess.run([str(CARBONPEAK), "kpi", "warnings", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0
    assert "Examples:\n  carbonpeak kpi warnings\n" in done.stdout
    assert "carbonpeak kpi warnings --history --kpi raw_coal_consumption --year 2024" in done.stdout
    assert "一级 red" in done.stdout and "--history" in done.stdout
