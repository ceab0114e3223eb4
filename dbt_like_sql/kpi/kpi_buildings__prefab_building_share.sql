{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_buildings__new_construction_yearly') }}
),

final as (
    select
        'prefab_building_share' as kpi_id,
        year,
        round(100 * prefab_m2 / floor_area_m2, 2) as value
    from yearly
    where true
)

select * from final
