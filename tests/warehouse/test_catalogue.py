"""The KPI catalogue: the real one is complete; mistakes in one name the file, KPI and key."""

from __future__ import annotations

import pytest
import yaml

from core.errors import ConfigError
from flows.settings import PROJECT_ROOT
from warehouse.catalogue import read_catalogue

TARGETS_MD = PROJECT_ROOT.parent / "shared" / "targets.md"


def test_mianyang_catalogue_has_every_kpi_and_checkpoint_of_the_plan():
    catalogue = read_catalogue(PROJECT_ROOT / "config" / "mianyang" / "kpis.yml")
    assert len(catalogue.kpis) == 34
    assert len(catalogue.checkpoints) == 41
    if TARGETS_MD.exists():  # the plan's table, when the shared folder is beside the checkout
        ids = [line.split("|")[1].strip() for line in TARGETS_MD.read_text(encoding="utf-8").splitlines()
               if line.startswith("| ") and line.count("|") > 9 and not line.startswith("| id")]
        assert list(catalogue.kpis.kpi_id) == ids


def write(tmp_path, **changes):
    kpi = {"id": "k", "name_zh": "指标", "name_en": "kpi", "unit": "%", "direction": "higher_is_better",
           "checkpoints": [{"year": 2025, "target_value": 45, "qualifier": "about"}]}
    kpi["checkpoints"][0].update(changes.pop("checkpoint", {}))
    kpi.update(changes)
    path = tmp_path / "kpis.yml"
    path.write_text(yaml.safe_dump({"kpis": [kpi]}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("changes, key, words", [
    ({"checkpoint": {"qualifier": "roughly"}}, "checkpoints.2025.qualifier", "`roughly`"),
    ({"checkpoint": {"tolerance": 1}}, "checkpoints.2025.tolerance", "one rule for every target"),
    ({"direction": "lower_is_better", "checkpoint": {"qualifier": "more_than"}},
     "checkpoints.2025.qualifier", "`more_than` needs direction higher_is_better"),
    ({"direction": "lower_is_better", "checkpoint": {"qualifier": "stay_at_least"}},
     "checkpoints.2025.qualifier", "`stay_at_least` needs direction higher_is_better"),
    ({"direction": "lower_is_better", "after_last_checkpoint": "rising"}, "after_last_checkpoint",
     "needs direction higher_is_better"),
    ({"checkpoint": {"qualifier": "at_most"}}, "checkpoints.2025.qualifier", "lower_is_better"),
    ({"direction": "up"}, "direction", "expected one of"),
    ({"name_en": None}, "name_en", "is required"),
    ({"definition": {"choice": "x"}}, "definition", "expected `choice`, `zh` and `en`"),
    ({"definition": {"choice": "recycling_only", "zh": "仅回收", "en": "recycling only"},
      "measure": {"from": "mart_x", "value": "share_pct"}},
     "definition.choice", "this KPI's measure has one definition"),
    ({"definition": {"choice": "all", "zh": "全部", "en": "all"},
      "measure": {"from": "mart_x", "value": {"recycling_only": "a_pct", "with_incineration": "b_pct"}}},
     "definition.choice", "knows the definitions recycling_only, with_incineration"),
    ({"measure": {"from": "mart_x", "value": "__import__('os').system('x')"}}, "measure.value",
     "is not arithmetic over columns"),
    ({"measure": {"from": "mart_x; drop table y", "value": "a"}}, "measure.from", "name the model"),
    ({"measure": {"from": "mart_x", "value": "a", "where": {"months": [12]}}}, "measure.where.months",
     "expected a column name"),
    ({"sector": "x", "measure": {"from": "mart_x", "value": "a", "change_vs_base": True}},
     "measure.change_vs_base",
     "% change vs base"),
    ({"measure": {"from": "mart_x", "value": "a"}}, "sector", "needs a sector"),
    # the early warning's year-to-date data
    ({"year_to_date": {"from": "mart_m", "value": "a"}}, "year_to_date", "give the KPI a `measure:`"),
    ({"sector": "x", "measure": {"from": "mart_x", "value": "a"},
      "year_to_date": {"from": "mart_m", "value": "a", "months": 3}}, "year_to_date",
     "unknown keys ['months']"),
    ({"sector": "x", "measure": {"from": "mart_x", "value": "a"},
      "year_to_date": {"from": "mart_m'; --", "value": "a"}}, "year_to_date.from", "name a model"),
    ({"sector": "x", "measure": {"from": "mart_x", "value": "a"},
      "year_to_date": {"from": "mart_m", "value": "open('/etc/passwd')"}}, "year_to_date.value",
     "is not arithmetic over columns"),
    ({"sector": "x", "measure": {"from": "mart_x", "value": "a"},
      "year_to_date": {"from": "mart_m", "value": "a / month"}}, "year_to_date.value", "not year or month"),
    ({"sector": "x", "measure": {"from": "mart_x", "value": "a"},
      "year_to_date": {"from": "mart_m", "value": "a", "where": {"x = 1 or true": 1}}},
     "year_to_date.where", "expected `column: value` pairs"),
])
def test_mistakes_name_file_kpi_and_key(tmp_path, changes, key, words):
    path = write(tmp_path, **changes)
    with pytest.raises(ConfigError) as err:
        read_catalogue(path)
    assert (err.value.file, err.value.source, err.value.key) == (str(path), "k", key)
    assert words in str(err.value)


def test_the_about_band_is_one_rule_set_once(tmp_path):
    path = write(tmp_path)
    assert read_catalogue(path).checkpoints.tolerance.tolist() == [0.9]  # 2 % of 45
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**doc, "about_band_pct": 5}), encoding="utf-8")
    assert read_catalogue(path).checkpoints.tolerance.tolist() == [2.25]
    path.write_text(yaml.safe_dump({**doc, "about_band_pct": 0}), encoding="utf-8")
    with pytest.raises(ConfigError, match="about_band_pct"):
        read_catalogue(path)


def test_improving_after_the_last_checkpoint_is_either_direction(tmp_path):
    path = write(tmp_path, direction="lower_is_better", after_last_checkpoint="improving",
                 checkpoint={"qualifier": "at_least", "target_value": -3})
    assert read_catalogue(path).kpis.after_last_checkpoint.tolist() == ["improving"]


def test_year_to_date_is_read_with_the_columns_it_sums(tmp_path):
    path = write(tmp_path, sector="energy", measure={"from": "mart_x", "value": "share_pct"},
                 year_to_date={"from": "mart_m", "value": "100 * coalesce(b, 0) / a",
                               "where": {"is_complete": True, "county": "涪城区"}})
    ytd = read_catalogue(path).year_to_date["k"]
    assert (ytd.model, ytd.value_sql, ytd.columns) == ("mart_m", "100 * coalesce(b, 0) / a", ("a", "b"))
    assert dict(ytd.where) == {"is_complete": True, "county": "涪城区"}


def test_the_early_warning_waits_three_months_unless_told(tmp_path):
    path = write(tmp_path)
    assert read_catalogue(path).kpis.early_warning_min_months.tolist() == [3]
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump(doc | {"early_warning_min_months": 2}), encoding="utf-8")
    assert read_catalogue(path).kpis.early_warning_min_months.tolist() == [2]
    path.write_text(yaml.safe_dump(doc | {"early_warning_min_months": 13}), encoding="utf-8")
    with pytest.raises(ConfigError, match="1 to 12"):
        read_catalogue(path)
