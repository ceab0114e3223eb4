{{ config(materialized='view') }}

with consumption as (
    select * from {{ ref('mart_energy__consumption_yearly') }}
),

final as (
    select
        'raw_coal_consumption' as kpi_id,
        year,
        -- the plan counts in 万吨 (10 kt)
        round(raw_coal_t / 1e4, 2) as value,
        raw_coal_t
    from consumption
    where raw_coal_t is not null
)

select * from final
