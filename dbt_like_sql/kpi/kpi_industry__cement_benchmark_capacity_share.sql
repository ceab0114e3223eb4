{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_industry__cement_yearly') }}
),

final as (
    select
        'cement_benchmark_capacity_share' as kpi_id,
        year,
        round(100 * coalesce(benchmark_capacity_tpd, 0) / capacity_tpd, 2) as value
    from yearly
    where months_reported = 12
)

select * from final
