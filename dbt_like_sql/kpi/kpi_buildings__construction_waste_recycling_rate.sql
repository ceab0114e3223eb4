{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_buildings__construction_waste_yearly') }}
),

final as (
    select
        'construction_waste_recycling_rate' as kpi_id,
        year,
        round(recycling_rate_pct, 2) as value
    from yearly
    where months_reported = 12
)

select * from final
