{{ config(materialized='view') }}

with capacity as (
    select * from {{ ref('mart_power__capacity_yearly') }}
),

final as (
    select
        'clean_power_capacity' as kpi_id,
        year,
        -- the plan counts in 万千瓦 (10 MW)
        round(clean_capacity_mw / 10, 2) as value,
        clean_capacity_mw,
        total_capacity_mw
    from capacity
)

select * from final
