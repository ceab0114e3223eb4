{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_waste__municipal_yearly') }}
),

final as (
    select
        'waste_sorting_coverage' as kpi_id,
        year,
        round(sorting_coverage_pct, 2) as value
    from yearly
    where sorting_coverage_pct is not null
)

select * from final
