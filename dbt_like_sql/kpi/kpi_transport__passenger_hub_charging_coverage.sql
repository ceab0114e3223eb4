{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_transport__charging_coverage_yearly') }}
),

final as (
    select
        'passenger_hub_charging_coverage' as kpi_id,
        year,
        round(fast_charging_coverage_pct, 2) as value
    from yearly
    where months_reported = 12 and facility_type = '公路客运枢纽站'
)

select * from final
