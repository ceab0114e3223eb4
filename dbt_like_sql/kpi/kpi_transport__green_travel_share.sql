{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('stg_transport__green_travel_survey') }}
),

final as (
    select
        'green_travel_share' as kpi_id,
        year,
        round(walk_pct + bike_pct + public_transport_pct, 2) as value
    from yearly
    where true
)

select * from final
