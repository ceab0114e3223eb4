{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

coverage as (
    select * from {{ ref('stg_transport__charging_coverage') }}
),

year_end as (
    select
        year,
        facility_type,
        max(month) as month,
        count(distinct month) as months_reported
    from coverage
    group by year, facility_type
),

computed as (
    select
        c.year,
        c.facility_type,
        e.months_reported,
        c.facilities_total,
        c.facilities_with_fast_charging,
        100.0 * c.facilities_with_fast_charging / nullif(c.facilities_total, 0) as fast_charging_coverage_pct
    from coverage as c
    inner join year_end as e on c.year = e.year and c.facility_type = e.facility_type and c.month = e.month
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year, facility_type
