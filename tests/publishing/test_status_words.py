"""One table of status words: officials read the same word in the CLI, report, dictionary and alerts."""

from __future__ import annotations

import re

from flows.settings import PROJECT_ROOT
from publishing.status_words import STATUS_EN, STATUS_ZH, status_label
from warehouse.kpi import STATUSES


def test_every_status_has_a_chinese_and_an_english_word():
    assert set(STATUS_ZH) == set(STATUS_EN) == set(STATUSES)
    assert status_label("off_track") == "偏离目标 off track"
    assert status_label("unknown") == "unknown unknown"  # never a KeyError in a message


def test_no_module_keeps_its_own_table_of_status_words():
    # the alerts once said 已达成 / 进展正常 where the report said 已实现 / 按计划
    own_tables = []
    for folder in ("flows", "warehouse", "expectations", "connectors", "publishing", "alerts", "cli", "core"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            own_words = re.search(r"[\"']on_track[\"']\s*:\s*[\"'][\u4e00-\u9fff]", text)
            if path.name != "status_words.py" and own_words:
                own_tables.append(str(path.relative_to(PROJECT_ROOT)))
    assert own_tables == []


def test_the_surfaces_show_the_shared_words():
    from alerts import messages
    from cli import read as cli
    from publishing import report
    from publishing.dictionary import render

    for module in (messages, cli, report, render):
        assert module.STATUS_ZH is STATUS_ZH, module.__name__
