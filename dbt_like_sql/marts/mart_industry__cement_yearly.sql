{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

monthly as (
    select * from {{ ref('stg_industry__cement_clinker') }}
),

december as (
    select
        year,
        max(month) as month
    from monthly
    group by year
),

capacity as (
    select
        m.year,
        sum(m.capacity_tpd) as capacity_tpd,
        sum(m.capacity_tpd) filter (where m.is_benchmark) as benchmark_capacity_tpd
    from monthly as m
    inner join december as d on m.year = d.year and m.month = d.month
    group by m.year
),

computed as (
    select
        m.year,
        count(distinct m.month) as months_reported,
        sum(m.clinker_t) as clinker_t,
        sum(m.energy_tce) as energy_tce,
        -- production-weighted: total energy over total clinker, not the mean of the ratios
        sum(m.energy_tce) * 1000 / sum(m.clinker_t) as energy_kgce_per_t,
        c.capacity_tpd,
        c.benchmark_capacity_tpd
    from monthly as m
    inner join capacity as c using (year)
    group by m.year, c.capacity_tpd, c.benchmark_capacity_tpd
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
