{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_transport__charging_coverage_yearly') }}
),

final as (
    select
        'highway_service_area_charging_coverage' as kpi_id,
        year,
        round(fast_charging_coverage_pct, 2) as value
    from yearly
    where months_reported = 12 and facility_type = '高速公路服务区'
)

select * from final
