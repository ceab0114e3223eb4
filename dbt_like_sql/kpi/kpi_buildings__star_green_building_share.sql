{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_buildings__new_construction_yearly') }}
),

final as (
    select
        'star_green_building_share' as kpi_id,
        year,
        round(100 * coalesce(star_m2, 0) / green_m2, 2) as value
    from yearly
    where true
)

select * from final
