{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_transport__carbon_intensity_yearly') }}
    where months_reported = 12
),

kpi as (
    select base_year from {{ source('config', 'kpis') }}
    where kpi_id = 'transport_carbon_intensity_change'
),

base as (
    select y.co2_kg_per_10_tkm as base_value
    from yearly y
    join kpi on y.year = kpi.base_year
),

final as (
    select
        'transport_carbon_intensity_change' as kpi_id,
        y.year,
        -- percent change against the base year: -6 means a cut of 6 %
        round(100 * (y.co2_kg_per_10_tkm / base.base_value - 1), 2) as value,
        y.co2_kg_per_10_tkm
    from yearly y
    cross join base
)

select * from final
