{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_public_institutions__energy_yearly') }}
    where true
),

kpi as (
    select base_year from {{ source('config', 'kpis') }}
    where kpi_id = 'public_inst_carbon_per_area'
),

base as (
    select y.co2_kg_per_m2 as base_value
    from yearly y
    join kpi on y.year = kpi.base_year
),

final as (
    select
        'public_inst_carbon_per_area' as kpi_id,
        y.year,
        -- percent change against the base year: -6 means a cut of 6 %
        round(100 * (y.co2_kg_per_m2 / base.base_value - 1), 2) as value,
        y.co2_kg_per_m2
    from yearly y
    cross join base
)

select * from final
