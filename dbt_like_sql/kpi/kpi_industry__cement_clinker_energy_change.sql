{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_industry__cement_yearly') }}
    where months_reported = 12
),

kpi as (
    select base_year from {{ source('config', 'kpis') }}
    where kpi_id = 'cement_clinker_energy_change'
),

base as (
    select y.energy_kgce_per_t as base_value
    from yearly y
    join kpi on y.year = kpi.base_year
),

final as (
    select
        'cement_clinker_energy_change' as kpi_id,
        y.year,
        -- percent change against the base year: -6 means a cut of 6 %
        round(100 * (y.energy_kgce_per_t / base.base_value - 1), 2) as value,
        y.energy_kgce_per_t
    from yearly y
    cross join base
)

select * from final
