{{ config(materialized='table') }}

with energy as (
    select
        year,
        total_tce
    from {{ ref('mart_energy__consumption_yearly') }}
),

gdp as (
    select
        year,
        gdp_2020_prices_cny
    from {{ ref('stg_energy__gdp') }}
),

final as (
    select
        year,
        energy.total_tce,
        gdp.gdp_2020_prices_cny,
        -- tce per 10,000 CNY of GDP at 2020 prices: the unit the statistics bureau publishes
        energy.total_tce / (gdp.gdp_2020_prices_cny / 1e4) as energy_intensity_tce_per_10k_cny
    from energy
    inner join gdp using (year)
)

-- the city the warehouse is about (config.city): a province unions its cities' marts on it
select (select c.city_code from {{ source('config', 'city') }} as c) as city_code, final.* from final
order by final.year
