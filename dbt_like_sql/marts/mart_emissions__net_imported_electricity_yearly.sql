{{ config(materialized='table') }}

-- Electricity the city draws from the grid beyond what its own plants make.
-- The energy balance records electricity as primary (non-fossil) electricity in 亿kWh, and that
-- figure is far larger than the city's own hydro, wind, solar and biomass generation: the rest is
-- grid power bought from outside, which the statistics count as primary electricity (Sichuan's
-- grid is mostly hydro). Local thermal power is not in those rows: its coal and gas are.
-- So: net imported electricity = balance primary electricity − local clean generation.

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

balance as (
    select
        year,
        sum(physical_amount) * 1e5 as nonfossil_electricity_mwh  -- 亿kWh → MWh
    from {{ ref('stg_energy__balance') }}
    where not is_fossil and physical_unit = '亿千瓦时'
    group by year
),

monthly as (
    select * from {{ ref('stg_power__generation') }}
),

capacity as (
    select * from {{ ref('stg_energy__power_capacity') }}
),

complete_years as (
    select year
    from monthly
    group by year
    having count(distinct month) = 12
),

generation_by_type as (
    -- rounded: parallel float sums differ in the last bits from run to run
    select
        year,
        plant_type,
        is_clean,
        round(sum(generation_mwh), 3) as generation_mwh
    from monthly
    where year in (select c.year from complete_years as c)
    group by year, plant_type, is_clean
),

-- each clean plant type's capacity factor over the years with both generation and capacity,
-- used to estimate generation in years the grid company did not publish (before 2015 here)
capacity_factors as (
    select
        g.plant_type,
        sum(g.generation_mwh) / sum(c.capacity_mw * 8760) as capacity_factor
    from generation_by_type as g
    inner join capacity as c using (year, plant_type)
    where g.is_clean and c.capacity_mw > 0
    group by g.plant_type
),

observed as (
    select
        year,
        sum(generation_mwh) filter (where is_clean) as local_clean_generation_mwh,
        sum(generation_mwh) filter (where not is_clean) as local_thermal_generation_mwh
    from generation_by_type
    group by year
),

estimated as (
    select
        c.year,
        round(sum(c.capacity_mw * 8760 * f.capacity_factor), 3) as local_clean_generation_mwh,
        -- a clean type with capacity but no observed capacity factor leaves no estimate
        bool_and(f.capacity_factor is not null or c.capacity_mw = 0) as is_complete
    from capacity as c
    left join capacity_factors as f using (plant_type)
    where c.is_clean
    group by c.year
),

computed as (
    select
        b.year,
        b.nonfossil_electricity_mwh,
        coalesce(
            o.local_clean_generation_mwh,
            case when e.is_complete then e.local_clean_generation_mwh end
        ) as local_clean_generation_mwh,
        o.year is null as is_generation_estimated,
        o.local_thermal_generation_mwh,
        -- negative would mean a net export of clean power; kept signed, as the provincial
        -- guidelines deduct exported electricity
        b.nonfossil_electricity_mwh - coalesce(
            o.local_clean_generation_mwh,
            case when e.is_complete then e.local_clean_generation_mwh end
        ) as net_imported_electricity_mwh
    from balance as b
    left join observed as o using (year)
    left join estimated as e using (year)
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
