{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_waste__municipal_yearly') }}
),

final as (
    select
        'sludge_safe_disposal_rate' as kpi_id,
        year,
        round(sludge_safe_disposal_pct, 2) as value
    from yearly
    where sludge_safe_disposal_pct is not null
)

select * from final
