{{ config(materialized='table') }}

-- Energy per monitored building and day: its sub-meters' days (mart_buildings__meter_energy_daily,
-- built incrementally) summed by kind, with the building's register. Standard-coal coefficients
-- (GB/T 2589-2020): electricity 0.1229 kgce/kWh (equivalent value), natural gas 1.2143 kgce/m³,
-- heat 34.12 kgce/GJ; water carries no energy.
with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

meter_days as (
    select * exclude (city_code) from {{ ref('mart_buildings__meter_energy_daily') }}
),

meters as (
    select * from {{ ref('stg_buildings__building_meters') }}
),

buildings as (
    select * from {{ ref('stg_buildings__monitored_buildings') }}
),

daily as (
    select
        m.building_id,
        d.energy_date,
        sum(d.amount) filter (where m.meter_kind like 'electricity%') as electricity_kwh,
        sum(d.amount) filter (where m.meter_kind = 'gas') as gas_m3,
        sum(d.amount) filter (where m.meter_kind = 'water') as water_m3,
        sum(d.amount) filter (where m.meter_kind = 'heat') as heat_gj,
        cast(sum(d.intervals) as bigint) as intervals
    from meter_days as d
    inner join meters as m on d.meter_id = m.meter_id
    group by m.building_id, d.energy_date
),

computed as (
    select
        d.building_id,
        d.energy_date,
        b.county_name,
        b.building_use,
        b.is_public_institution,
        b.floor_area_m2,
        d.electricity_kwh,
        d.gas_m3,
        d.water_m3,
        d.heat_gj,
        coalesce(d.electricity_kwh, 0) * 0.1229 + coalesce(d.gas_m3, 0) * 1.2143
        + coalesce(d.heat_gj, 0) * 34.12 as energy_kgce,
        d.intervals
    from daily as d
    inner join buildings as b on d.building_id = b.building_id
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by building_id, energy_date
