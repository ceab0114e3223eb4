{{ config(materialized='view') }}

-- What each KPI's values show (观测与趋势): the latest value, and where the trend leads.
-- Projection: Theil–Sen over the last five observations or fewer: the median of the pairwise
-- slopes, and the line through the median of value - slope * (year - latest_year). One odd year
-- moves neither median; kpi_status carries the line to each checkpoint year and needs three
-- observations to trust it. Grain: one row per kpi_id with at least one value.

with series as (
    select
        kpi_id,
        year,
        value
    from {{ ref('kpi_series') }}
    where value is not null
),

observed as (
    select
        kpi_id,
        max(year) as latest_year,
        arg_max(value, year) as latest_value,
        min(year) as first_year
    from series
    group by kpi_id
),

recent as (
    select * from series
    qualify row_number() over (partition by kpi_id order by year desc) <= 5
),

theil_sen_slope as (
    -- the median of the slopes between every two of the recent observations
    select
        a.kpi_id,
        median((b.value - a.value) / (b.year - a.year)) as slope_per_year
    from recent as a
    inner join recent as b on a.kpi_id = b.kpi_id and a.year < b.year
    group by a.kpi_id
),

trend as (
    select
        r.kpi_id,
        count(*) as trend_points,
        any_value(s.slope_per_year) as slope_per_year,
        -- the Theil–Sen line in latest_year: the median intercept, not the latest value itself
        median(r.value - s.slope_per_year * (r.year - o.latest_year)) as trend_level
    from recent as r
    inner join observed as o using (kpi_id)
    left join theil_sen_slope as s using (kpi_id)
    group by r.kpi_id
)

select
    o.kpi_id,
    o.first_year,
    o.latest_year,
    o.latest_value,
    t.trend_points,
    t.slope_per_year,
    t.trend_level
from observed as o
inner join trend as t using (kpi_id)
