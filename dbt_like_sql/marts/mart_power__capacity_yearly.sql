{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

capacity as (
    select * from {{ ref('stg_energy__power_capacity') }}
),

computed as (
    select
        year,
        sum(capacity_mw) as total_capacity_mw,
        sum(capacity_mw) filter (where is_clean) as clean_capacity_mw,
        sum(capacity_mw) filter (where plant_type = 'hydro') as hydro_mw,
        sum(capacity_mw) filter (where plant_type = 'wind') as wind_mw,
        sum(capacity_mw) filter (where plant_type = 'solar') as solar_mw,
        sum(capacity_mw) filter (where plant_type = 'biomass') as biomass_mw,
        sum(capacity_mw) filter (where plant_type = 'coal') as coal_mw,
        sum(capacity_mw) filter (where plant_type = 'gas') as gas_mw
    from capacity
    group by year
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
