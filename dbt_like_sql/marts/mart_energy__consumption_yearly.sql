{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

balance as (
    select * from {{ ref('stg_energy__balance') }}
),

raw_coal as (
    select
        year,
        sum(raw_coal_t) as raw_coal_t
    from {{ ref('stg_energy__raw_coal_by_sector') }}
    group by year
),

by_year as (
    select
        year,
        sum(consumption_tce) as total_tce,
        sum(consumption_tce) filter (where is_fossil) as fossil_tce,
        sum(consumption_tce) filter (where not is_fossil) as nonfossil_tce,
        count(*) as fuel_count
    from balance
    group by year
),

computed as (
    select
        b.year,
        b.total_tce,
        b.fossil_tce,
        coalesce(b.nonfossil_tce, 0) as nonfossil_tce,
        100 * coalesce(b.nonfossil_tce, 0) / nullif(b.total_tce, 0) as nonfossil_share_pct,
        c.raw_coal_t,
        b.fuel_count
    from by_year as b
    left join raw_coal as c using (year)
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
