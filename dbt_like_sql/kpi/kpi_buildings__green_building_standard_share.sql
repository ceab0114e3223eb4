{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_buildings__new_construction_yearly') }}
),

final as (
    select
        'green_building_standard_share' as kpi_id,
        year,
        round(100 * urban_green_m2 / urban_m2, 2) as value
    from yearly
    where true
)

select * from final
