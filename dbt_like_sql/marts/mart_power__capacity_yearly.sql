{{ config(materialized='table') }}

with capacity as (
    select * from {{ ref('stg_energy__power_capacity') }}
),

final as (
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
)

-- the city the warehouse is about (config.city): a province unions its cities' marts on it
select (select c.city_code from {{ source('config', 'city') }} as c) as city_code, final.* from final
order by final.year
