{{ config(materialized='view') }}

-- The plan's required path to each checkpoint (所需路径): where the KPI must be each year to meet
-- its targets. One rule, in one place: kpi_status judges against it and the report draws it.
--   base      "% change vs base": 0 in its base_year by definition (or the catalogue's base_value).
--             A level or share: the catalogue's base_value in base_year / reference_year, else the
--             value observed in that year (2020 in Mianyang), else the first value observed after
--             it (base_year then says which year). Nothing observed since: no path.
--             A base that already meets the first target gives a flat path at that target.
--   vertices  the base, then the targets of the checkpoint and of the KPI's earlier checkpoints
--             (clean power: 2020 value -> 210 in 2025 -> 450 in 2030).
--   linear    levels, shares, ratios: straight lines between the vertices.
--   compound  "% change vs base": a constant yearly rate of the underlying level between vertices
--             (the change v is turned into the level ratio 1 + v/100, interpolated, turned back).
-- Grain: one row per kpi_id, checkpoint_year and year, from the base year to the checkpoint year.

with kpis as (
    select
        *,
        case when direction = 'higher_is_better' then 1 else -1 end as sense,
        unit = '% change vs base' as is_relative
    from {{ source('config', 'kpis') }}
),

checkpoints as (
    select * from {{ source('config', 'kpi_checkpoints') }}
),

series as (
    select
        kpi_id,
        year,
        value
    from {{ ref('kpi_series') }}
    where value is not null
),

since_base as (
    -- the first observation in or after the base year (any, when the catalogue names none)
    select
        k.kpi_id,
        min(s.year) as first_year
    from kpis as k
    inner join
        series as s
        on k.kpi_id = s.kpi_id and s.year >= coalesce(k.base_year, k.reference_year, s.year)
    group by k.kpi_id
),

bases as (
    select
        k.kpi_id,
        case
            when k.unit = 'year' then null
            when k.is_relative or k.base_value is not null then coalesce(k.base_year, k.reference_year)
            else sb.first_year
        end as base_year,
        case
            when k.unit = 'year' then null
            when k.base_value is not null then k.base_value
            when k.is_relative then 0  -- a change against the base year is 0 in that year
            else bv.value
        end as base_value
    from kpis as k
    left join since_base as sb using (kpi_id)
    left join series as bv on k.kpi_id = bv.kpi_id and sb.first_year = bv.year
),

first_targets as (
    select
        c.kpi_id,
        arg_min(c.target_value, c.checkpoint_year) as first_target
    from checkpoints as c
    inner join bases as b using (kpi_id)
    where c.checkpoint_year > b.base_year
    group by c.kpi_id
),

path_points as (
    -- the path to checkpoint c: the base, then the targets of c and of the KPI's earlier checkpoints
    select
        c.kpi_id,
        c.checkpoint_year,
        b.base_year as year,
        -- a base that already meets the first target: the path holds that target
        if(k.sense * (b.base_value - f.first_target) >= 0, f.first_target, b.base_value) as value
    from checkpoints as c
    inner join bases as b using (kpi_id)
    inner join kpis as k using (kpi_id)
    inner join first_targets as f using (kpi_id)
    where b.base_year < c.checkpoint_year and b.base_value is not null
    union all
    select
        c.kpi_id,
        c.checkpoint_year,
        p.checkpoint_year as year,
        p.target_value as value
    from checkpoints as c
    inner join checkpoints as p on c.kpi_id = p.kpi_id and c.checkpoint_year >= p.checkpoint_year
    inner join bases as b on c.kpi_id = b.kpi_id
    where b.base_year < p.checkpoint_year and b.base_value is not null
),

path_segments as (
    select
        p.*,
        lead(p.year) over w as to_year,
        lead(p.value) over w as to_value,
        if(k.is_relative, 'compound', 'linear') as path_kind,
        k.unit
    from path_points as p
    inner join kpis as k using (kpi_id)
    window w as (partition by p.kpi_id, p.checkpoint_year order by p.year)
),

path_described as (
    select
        kpi_id,
        checkpoint_year,
        any_value(path_kind) as path_kind,
        format(
            '{} {} {}: {} a year', any_value(path_kind),
            string_agg(format('{:.4g} ({})', value, year), ' → ' order by year), any_value(unit),
            string_agg(
                if(
                    path_kind = 'compound',
                    format('{:+.3g} %', 100 * (pow(
                        (1 + to_value / 100) / (1 + value / 100),
                        1 / (to_year - year)
                    ) - 1)),
                    format('{:+.3g}', (to_value - value) / (to_year - year))
                ),
                ', then ' order by year
            ) filter (where to_year is not null)
            || if(any_value(path_kind) = 'compound', ' of the underlying level', '')
        ) as required_path
    from path_segments
    group by kpi_id, checkpoint_year
),

yearly as (
    -- every year of each segment, and the last vertex (the checkpoint's target) itself
    select
        s.kpi_id,
        s.checkpoint_year,
        y.year,
        case
            when s.to_year is null then s.value
            when s.path_kind = 'compound'
                then 100 * ((
                        1 + s.value / 100) * pow((1 + s.to_value / 100) / (1 + s.value / 100),
                    (y.year - s.year) / (s.to_year - s.year)
                    ) - 1)
            else s.value + (s.to_value - s.value) * (y.year - s.year) / (s.to_year - s.year)
        end as expected_value
    from path_segments as s
    cross join lateral (
        select cast(r.range as integer) as year from range(s.year, coalesce(s.to_year, s.year + 1)) as r
    ) as y
)

select
    y.kpi_id,
    y.checkpoint_year,
    y.year,
    y.expected_value,
    d.path_kind,
    d.required_path,
    b.base_year,
    b.base_value
from yearly as y
inner join path_described as d using (kpi_id, checkpoint_year)
inner join bases as b using (kpi_id)
