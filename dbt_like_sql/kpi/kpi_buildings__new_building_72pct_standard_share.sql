{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_buildings__new_construction_yearly') }}
),

final as (
    select
        'new_building_72pct_standard_share' as kpi_id,
        year,
        round(100 * coalesce(civil_72pct_m2, 0) / civil_m2, 2) as value
    from yearly
    where true
)

select * from final
