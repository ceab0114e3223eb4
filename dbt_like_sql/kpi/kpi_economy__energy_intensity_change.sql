{{ config(materialized='view') }}

with intensity as (
    select * from {{ ref('mart_economy__energy_intensity_yearly') }}
),

kpi as (
    select base_year from {{ source('config', 'kpis') }}
    where kpi_id = 'energy_intensity_change'
),

base as (
    select i.energy_intensity_tce_per_10k_cny as base_intensity
    from intensity i
    join kpi on i.year = kpi.base_year
),

final as (
    select
        'energy_intensity_change' as kpi_id,
        i.year,
        -- percent change against the base year: -14 means a cut of 14 %
        round(100 * (i.energy_intensity_tce_per_10k_cny / base.base_intensity - 1), 2) as value,
        i.energy_intensity_tce_per_10k_cny,
        base.base_intensity
    from intensity i
    cross join base
)

select * from final
