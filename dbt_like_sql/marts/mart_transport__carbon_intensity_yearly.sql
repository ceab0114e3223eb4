{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

monthly as (
    select * from {{ ref('stg_transport__turnover_energy') }}
),

-- CO₂ emission factors. Fuels: IPCC 2006 defaults with Chinese calorific values (gasoline
-- 2.925 t/t, diesel 3.096 t/t, natural gas 2.162 kg/m³); electricity: the national grid average
-- 0.5568 tCO₂/MWh (生态环境部/国家统计局, 2021). The versioned factor table comes with the CO₂
-- inventory (issue #5).
factors as (
    select
        2.925 as gasoline_t,
        3.096 as diesel_t,
        0.002162 as natural_gas_m3,
        0.5568 as electricity_mwh
),

yearly as (
    select
        year,
        count(*) as months_reported,
        sum(converted_turnover_tkm) as converted_turnover_tkm,
        sum(gasoline_t) as gasoline_t,
        sum(diesel_t) as diesel_t,
        sum(natural_gas_m3) as natural_gas_m3,
        sum(electricity_mwh) as electricity_mwh
    from monthly
    group by year
),

computed as (
    select
        y.*,
        (
            y.gasoline_t * f.gasoline_t + y.diesel_t * f.diesel_t + y.natural_gas_m3 * f.natural_gas_m3
            + y.electricity_mwh * f.electricity_mwh
        ) as co2_t,
        (
            y.gasoline_t * f.gasoline_t + y.diesel_t * f.diesel_t + y.natural_gas_m3 * f.natural_gas_m3
            + y.electricity_mwh * f.electricity_mwh
        ) / y.converted_turnover_tkm * 1e4 as co2_kg_per_10_tkm
    from yearly as y
    cross join factors as f
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
