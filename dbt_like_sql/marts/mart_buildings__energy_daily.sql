{{ config(materialized='table') }}

-- Energy per monitored building and day, from the sub-meters' cumulative counters.
-- A reading closes the 15 minutes before it, so the interval ending at 00:00 belongs to the
-- day before. A counter that falls to a tenth of its value or less was reset and counts from
-- zero; any other fall (the gate quarantines those inside a day file, not across two) is no
-- energy at all: the interval is left out, never booked as the whole counter. After a gap
-- (missing or set-aside readings) the energy of the gap lands on the day readings resume.
-- Standard-coal coefficients (GB/T 2589-2020): electricity 0.1229 kgce/kWh (equivalent
-- value), natural gas 1.2143 kgce/m³, heat 34.12 kgce/GJ; water carries no energy.
with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

readings as (
    select * from {{ ref('stg_buildings__meter_readings') }}
),

meters as (
    select * from {{ ref('stg_buildings__building_meters') }}
),

buildings as (
    select * from {{ ref('stg_buildings__monitored_buildings') }}
),

steps as (
    select
        meter_id,
        ts,
        reading,
        lag(reading) over by_meter as previous_reading
    from readings
    window by_meter as (partition by meter_id order by ts)
),

intervals as (
    select
        s.meter_id,
        m.building_id,
        m.meter_kind,
        cast(s.ts - interval 1 second as date) as energy_date,
        case
            when s.reading >= s.previous_reading then s.reading - s.previous_reading
            when s.reading <= 0.1 * s.previous_reading then s.reading
        end as amount
    from steps as s
    inner join meters as m on s.meter_id = m.meter_id
    where s.previous_reading is not null
),

daily as (
    select
        building_id,
        energy_date,
        sum(amount) filter (where meter_kind like 'electricity%') as electricity_kwh,
        sum(amount) filter (where meter_kind = 'gas') as gas_m3,
        sum(amount) filter (where meter_kind = 'water') as water_m3,
        sum(amount) filter (where meter_kind = 'heat') as heat_gj,
        count(*) as intervals
    from intervals
    group by building_id, energy_date
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
