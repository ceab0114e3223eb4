{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

daily as (
    select * exclude (city_code) from {{ ref('mart_buildings__energy_daily') }}
),

computed as (
    select
        building_id,
        cast(year(energy_date) as integer) as year,
        cast(month(energy_date) as integer) as month,
        any_value(county_name) as county_name,
        any_value(building_use) as building_use,
        any_value(is_public_institution) as is_public_institution,
        any_value(floor_area_m2) as floor_area_m2,
        count(*) as days_measured,
        -- per m² and day measured: a month still in progress compares with a whole one
        any_value(floor_area_m2) * count(*) as floor_area_m2_days,
        sum(electricity_kwh) as electricity_kwh,
        sum(gas_m3) as gas_m3,
        sum(water_m3) as water_m3,
        sum(heat_gj) as heat_gj,
        sum(energy_kgce) as energy_kgce,
        sum(energy_kgce) / any_value(floor_area_m2) as energy_kgce_per_m2
    from daily
    group by building_id, year(energy_date), month(energy_date)
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by building_id, year, month
