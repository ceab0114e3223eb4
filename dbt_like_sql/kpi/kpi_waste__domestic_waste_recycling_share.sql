{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_waste__municipal_yearly') }}
),

final as (
    select
        'domestic_waste_recycling_share' as kpi_id,
        year,
        round(resource_recovery_pct, 2) as value
    from yearly
    where months_reported = 12
)

select * from final
