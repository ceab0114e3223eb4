{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_waste__industrial_waste_yearly') }}
),

final as (
    select
        'hazardous_waste_utilization_rate' as kpi_id,
        year,
        round(hazardous_utilization_pct, 2) as value
    from yearly
    where months_reported = 12  -- a year counts once its ledger is complete
)

select * from final
