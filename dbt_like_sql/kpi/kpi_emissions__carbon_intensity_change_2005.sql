{{ config(materialized='view') }}

with intensity as (
    select * from {{ ref('mart_emissions__co2_yearly') }}
    where co2_intensity_t_per_10k_cny is not null
),

kpi as (
    select base_year from {{ source('config', 'kpis') }}
    where kpi_id = 'carbon_intensity_change_2005'
),

base as (
    select i.co2_intensity_t_per_10k_cny as base_intensity
    from intensity i
    join kpi on i.year = kpi.base_year
),

final as (
    select
        'carbon_intensity_change_2005' as kpi_id,
        i.year,
        -- percent change against the base year: -70 means a cut of 70 %
        round(100 * (i.co2_intensity_t_per_10k_cny / base.base_intensity - 1), 2) as value,
        i.co2_intensity_t_per_10k_cny,
        base.base_intensity,
        i.total_co2_t
    from intensity i
    cross join base
)

select * from final
