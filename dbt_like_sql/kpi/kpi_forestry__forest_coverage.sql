{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_forestry__forest_yearly') }}
),

final as (
    select
        'forest_coverage' as kpi_id,
        year,
        round(forest_coverage_pct, 2) as value
    from yearly
    -- a year counts once every county reported (as many as in the best-covered year)
    where counties_reporting = (select max(counties_reporting) from yearly)
)

select * from final
