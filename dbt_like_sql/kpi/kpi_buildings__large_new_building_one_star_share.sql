{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_buildings__new_construction_yearly') }}
),

final as (
    select
        'large_new_building_one_star_share' as kpi_id,
        year,
        round(100 * coalesce(large_star_m2, 0) / large_m2, 2) as value
    from yearly
    where true
)

select * from final
