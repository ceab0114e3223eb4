{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('stg_transport__airport_equipment') }}
),

final as (
    select
        'airport_electric_equipment_share' as kpi_id,
        year,
        round(100.0 * electric_equipment / equipment_total, 2) as value
    from yearly
    where true
)

select * from final
