"""Finding the groups of a big table whose rows are not stored in key order, in one unsorted scan.

Checks of readings ask "what came before this one": a repeated key (two readings of one meter at
one time), or the step from the previous reading. Asked with a sort (`lag() over (partition by
day, meter order by ts)`, or a group by the whole key) that is the dearest part of loading a
10 M-row day: 0.7–1.3 s each on two cores.

Exporters write readings meter by meter in time order, and DuckDB keeps that order within each
chunk it inserts. So one scan in the table's own order (`lag() over ()`, DuckDB's streaming
window: no sort) sees each reading beside the one stored before it. A reading *follows* when
that one is of its group (same day and meter) with a smaller time. A group whose rows are
one run of rising times has exactly one reading that does not follow, its first: then, and
only then, the stored predecessor of every other reading is its predecessor in time, and the
group holds no repeated key. Every other group (shuffled, split across chunks, repeated or
null times) is *out of order* and is handled with the sort, on its own few rows.

So the result never depends on the order the rows happen to be stored in, only the speed does;
a file written in time order across meters is sorted whole, as before.
"""

from __future__ import annotations

from warehouse.db import quote_ident


def follows(group: list[str], order: str) -> str:
    """SQL true when a row's stored predecessor is of its group, with a smaller `order` value.

    Never null: a null order value or group is *not* following (so its group is sorted).
    """
    same = [f"{quote_ident(c)} is not distinct from lag({quote_ident(c)}) over ()" for c in group]
    rising = f"{quote_ident(order)} > lag({quote_ident(order)}) over ()"
    return f"coalesce({' and '.join([*same, rising])}, false)"


def out_of_order_groups(table: str, where: str, group: list[str], order: str) -> str:
    """SQL listing the groups of `table` (rows matching `where`) not stored as one rising run.

    With no group columns the whole selection is one group: one row (no columns but a count)
    when it is out of order, none otherwise.
    """
    columns = ", ".join(quote_ident(c) for c in group)
    selected = f"{columns}, " if group else ""
    return (f"select {selected}count(*) as starts from (select {selected}{follows(group, order)} "
            f"as follows from {table} where {where}) where not follows "
            f"{'group by all ' if group else ''}having count(*) > 1")
