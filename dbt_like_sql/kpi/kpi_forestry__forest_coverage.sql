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
    where counties_reporting = 9  -- a year counts once every county reported
)

select * from final
