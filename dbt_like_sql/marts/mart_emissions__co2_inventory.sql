{{ config(materialized='table') }}

-- The city's energy CO₂ inventory, computed (nobody reports it): fossil fuel use from the energy
-- balance × combustion factors (direct, inside the city, local power plants included), plus net
-- imported electricity × grid factor (indirect). Method, boundary and calibration: the .yml.

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

balance as (
    select
        year,
        fuel_code,
        consumption_tce
    from {{ ref('stg_energy__balance') }}
    where is_fossil
),

coal_sectors as (
    select
        year,
        sector_code,
        raw_coal_t / sum(raw_coal_t) over (partition by year) as share_of_raw_coal
    from {{ ref('stg_energy__raw_coal_by_sector') }}
),

electricity as (
    select * exclude (city_code) from {{ ref('mart_emissions__net_imported_electricity_yearly') }}
),

factors as (
    select * exclude (city_code) from {{ ref('mart_emissions__emission_factors') }}
    where is_current
),

-- raw coal is split by the sectors that burn it; the bureau splits no other fuel
fuel_by_sector as (
    select
        b.year,
        coalesce(s.sector_code, 'unallocated') as sector_code,
        b.fuel_code,
        b.consumption_tce * coalesce(s.share_of_raw_coal, 1) as energy_tce
    from balance as b
    left join coal_sectors as s on b.fuel_code = 'raw_coal' and b.year = s.year
),

direct as (
    select
        u.year,
        u.sector_code,
        u.fuel_code,
        'direct' as emission_scope,
        u.energy_tce,
        cast(null as double) as electricity_mwh,
        f.factor_id,
        f.tco2_per_tce,
        cast(null as double) as tco2_per_mwh,
        f.is_assumption as is_factor_assumed,
        u.energy_tce * f.tco2_per_tce as co2_t
    from fuel_by_sector as u
    left join factors as f
        on u.fuel_code = f.fuel_code
        and u.year between f.valid_from_year and coalesce(f.valid_to_year, 9999)
),

indirect as (
    select
        e.year,
        'purchased_electricity' as sector_code,
        'net_imported_electricity' as fuel_code,
        'indirect' as emission_scope,
        cast(null as double) as energy_tce,
        e.net_imported_electricity_mwh as electricity_mwh,
        f.factor_id,
        cast(null as double) as tco2_per_tce,
        f.tco2_per_mwh,
        f.is_assumption as is_factor_assumed,
        e.net_imported_electricity_mwh * f.tco2_per_mwh as co2_t
    from electricity as e
    left join factors as f
        on f.fuel_code = 'net_imported_electricity'
        and e.year between f.valid_from_year and coalesce(f.valid_to_year, 9999)
),

computed as (
    select
        year,
        sector_code,
        fuel_code,
        emission_scope,
        energy_tce,
        electricity_mwh,
        factor_id,
        tco2_per_tce,
        tco2_per_mwh,
        is_factor_assumed,
        -- null when the fuel has no current factor or the electricity cannot be derived
        round(co2_t, 3) as co2_t
    from direct
    union all
    select
        year,
        sector_code,
        fuel_code,
        emission_scope,
        energy_tce,
        electricity_mwh,
        factor_id,
        tco2_per_tce,
        tco2_per_mwh,
        is_factor_assumed,
        round(co2_t, 3) as co2_t
    from indirect
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year, emission_scope, sector_code, fuel_code
