{{ config(materialized='view') }}

with consumption as (
    select * from {{ ref('mart_energy__consumption_yearly') }}
),

final as (
    select
        'nonfossil_energy_share' as kpi_id,
        year,
        round(nonfossil_share_pct, 2) as value,
        nonfossil_tce,
        total_tce
    from consumption
)

select * from final
