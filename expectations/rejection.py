"""One console line for a refused batch: which file, what failed, and what to change.

A table-level check refuses the whole batch, and its raw GX wording ("county missing") pointed
engineers at the department when the cause was often their own `sources.yml` (a column mapped to
the wrong header, a unit left out). Each kind of check says what to look at.
"""

from __future__ import annotations

from expectations.validate import ValidationOutcome

HINTS = {
    "complete_counties": "if the file spells a county differently, or `county_name` is mapped to the "
                         "wrong header, fix `columns.county_name.from` in sources.yml (city.yml lists "
                         "the counties)",
    "continuity": "a period is missing inside the series: ask the department for it, or check how "
                  "`year`/`month` are filled in sources.yml (`from:`, `from_filename:`, `from_sheet:`)",
    "published_totals": "the rows do not add up to the file's 合计 row: check each column's `unit:` and "
                        "`from:` in sources.yml (a unit slip, or two columns mapped to one header)",
    "expect_table_row_count_to_be_between": "the export has no data rows: ask the department to "
                                            "publish it again, or check `tabular.header_rows` in "
                                            "sources.yml",
    "unique_key": "a key is given twice: check `primary_key` and the column map in sources.yml",
}
DEFAULT_HINT = "check this dataset's column map (`from:`, `unit:`) in sources.yml"


def explain_rejection(source: str, where: str, outcome: ValidationOutcome) -> str:
    """`<source>` (<file>): batch refused, previous data kept: <what failed>; <what to change>."""
    kinds = {c.expectation: c.check for c in outcome.checks}
    failed = [f for f in outcome.findings if f.severity == "error" and not f.row_level]
    hints = []
    for finding in failed:
        hint = HINTS.get(kinds.get(finding.expectation, ""), DEFAULT_HINT)
        if hint not in hints:
            hints.append(hint)
    what = "; ".join(" ".join(f"{f.expectation}: {f.detail}".split()) for f in failed)
    return f"`{source}` ({where}): batch refused, previous data kept: {what} — to fix: {'; '.join(hints)}"
