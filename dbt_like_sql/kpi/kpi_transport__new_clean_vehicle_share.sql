{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_transport__vehicles_yearly') }}
),

final as (
    select
        'new_clean_vehicle_share' as kpi_id,
        year,
        round(100 * new_clean_registrations / new_registrations, 2) as value
    from yearly
    where months_reported = 12
)

select * from final
