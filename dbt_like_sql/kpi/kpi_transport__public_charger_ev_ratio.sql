{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_transport__vehicles_yearly') }}
),

final as (
    select
        'public_charger_ev_ratio' as kpi_id,
        year,
        round(charging_points / ev_stock, 4) as value
    from yearly
    where months_reported = 12
)

select * from final
