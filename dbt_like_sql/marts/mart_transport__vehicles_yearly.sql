{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

vehicles as (
    select * from {{ ref('stg_transport__vehicles') }}
),

charging as (
    select * from {{ ref('stg_transport__charging_points') }}
),

-- stock and charging points are counted at the last month of each year in the data
year_end as (
    select
        year,
        max(month) as month,
        count(distinct month) as months_reported
    from vehicles
    group by year
),

stock as (
    select
        v.year,
        sum(v.vehicle_stock) as vehicle_stock,
        sum(v.vehicle_stock) filter (where v.fuel_type in ('纯电动', '插电混动', '燃料电池')) as ev_stock
    from vehicles as v
    inner join year_end as e on v.year = e.year and v.month = e.month
    group by v.year
),

registrations as (
    select
        year,
        sum(new_registrations) as new_registrations,
        -- 新能源 and 清洁能源 drive trains, as the plan counts them
        sum(new_registrations) filter (
            where fuel_type in ('纯电动', '插电混动', '燃料电池', '天然气')
        ) as new_clean_registrations
    from vehicles
    group by year
),

points as (
    select
        c.year,
        sum(c.public_points + c.dedicated_points) as charging_points
    from charging as c
    inner join year_end as e on c.year = e.year and c.month = e.month
    group by c.year
),

computed as (
    select
        e.year,
        e.months_reported,
        s.vehicle_stock,
        s.ev_stock,
        p.charging_points,
        r.new_registrations,
        r.new_clean_registrations
    from year_end as e
    inner join stock as s using (year)
    inner join registrations as r using (year)
    left join points as p using (year)
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
