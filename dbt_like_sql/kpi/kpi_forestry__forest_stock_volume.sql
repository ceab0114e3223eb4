{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_forestry__forest_yearly') }}
),

final as (
    select
        'forest_stock_volume' as kpi_id,
        year,
        round(stock_volume_m3 / 1e8, 4) as value
    from yearly
    -- a year counts once every county reported (as many as in the best-covered year)
    where counties_reporting = (select max(counties_reporting) from yearly)
)

select * from final
