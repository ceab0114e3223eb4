{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_buildings__new_construction_yearly') }}
),

final as (
    select
        'public_building_energy_monitoring_share' as kpi_id,
        year,
        round(100 * coalesce(large_public_monitored_m2, 0) / large_public_m2, 2) as value
    from yearly
    where true
)

select * from final
