{{ config(materialized='table') }}

-- Energy per unit of GDP, month by month, for the early warning of energy_intensity_change.
-- GDP is published yearly, so each month's energy is divided by the YEAR's GDP at 2020 prices:
-- the published figure when there is one, else last year's GDP grown at last year's real rate
-- (the assumption, stated in the README). Summed from January on, the value is the energy so far
-- per unit of the year's GDP; only its change on the same months of last year is used.

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

energy as (
    select
        year,
        month,
        total_tce,
        is_complete
    from {{ ref('mart_energy__consumption_monthly') }}
),

gdp as (
    select
        year,
        gdp_2020_prices_cny,
        real_growth_pct
    from {{ ref('stg_energy__gdp') }}
),

computed as (
    select
        e.year,
        e.month,
        e.total_tce,
        e.is_complete,
        coalesce(g.gdp_2020_prices_cny, p.gdp_2020_prices_cny * (1 + p.real_growth_pct / 100))
            as gdp_2020_prices_cny_estimate,
        g.gdp_2020_prices_cny is null as is_gdp_assumed,
        e.total_tce / (
            coalesce(g.gdp_2020_prices_cny, p.gdp_2020_prices_cny * (1 + p.real_growth_pct / 100))
            / 1e4
        ) as energy_per_gdp
    from energy as e
    left join gdp as g on e.year = g.year
    left join gdp as p on e.year = p.year + 1
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year, month
