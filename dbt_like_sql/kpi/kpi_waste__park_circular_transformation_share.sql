{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_waste__municipal_yearly') }}
),

final as (
    select
        'park_circular_transformation_share' as kpi_id,
        year,
        round(park_retrofit_pct, 2) as value
    from yearly
    where park_retrofit_pct is not null
)

select * from final
