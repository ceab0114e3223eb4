{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

energy as (
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

computed as (
    select
        year,
        energy.total_tce,
        gdp.gdp_2020_prices_cny,
        -- tce per 10,000 CNY of GDP at 2020 prices: the unit the statistics bureau publishes
        energy.total_tce / (gdp.gdp_2020_prices_cny / 1e4) as energy_intensity_tce_per_10k_cny
    from energy
    inner join gdp using (year)
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
