{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

inventory as (
    select * exclude (city_code) from {{ ref('mart_emissions__co2_inventory') }}
),

electricity as (
    select * exclude (city_code) from {{ ref('mart_emissions__net_imported_electricity_yearly') }}
),

gdp as (
    select
        year,
        gdp_2020_prices_cny
    from {{ ref('stg_energy__gdp') }}
),

by_year as (
    select
        year,
        -- rounded: parallel float sums differ in the last bits from run to run
        round(sum(co2_t) filter (where emission_scope = 'direct'), 3) as direct_co2_t,
        round(sum(co2_t) filter (where sector_code = 'power'), 3) as power_plant_coal_co2_t,
        round(sum(co2_t) filter (where emission_scope = 'indirect'), 3) as net_imported_electricity_co2_t,
        round(sum(co2_t), 3) as summed_co2_t,
        count(*) filter (where co2_t is null) as rows_without_co2,
        bool_or(is_factor_assumed) as has_assumed_factor
    from inventory
    group by year
),

computed as (
    select
        b.year,
        b.direct_co2_t,
        b.power_plant_coal_co2_t,
        b.net_imported_electricity_co2_t,
        -- a fuel without a factor, or electricity that cannot be derived, leaves no total
        -- rather than a silently smaller one
        case when b.rows_without_co2 = 0 then b.summed_co2_t end as total_co2_t,
        e.net_imported_electricity_mwh,
        e.is_generation_estimated,
        b.has_assumed_factor,
        g.gdp_2020_prices_cny,
        -- t CO₂ per 10,000 CNY of GDP at 2020 prices, as 单位地区生产总值二氧化碳排放
        case when b.rows_without_co2 = 0 then b.summed_co2_t / (g.gdp_2020_prices_cny / 1e4) end
            as co2_intensity_t_per_10k_cny
    from by_year as b
    left join electricity as e using (year)
    left join gdp as g using (year)
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
