{{ config(materialized='table') }}

-- Monthly energy consumption by month (statistics bureau): what the early warning of the energy
-- KPIs adds up from January on (kpis.yml `year_to_date:`). 一次电力及其他 (primary electricity and
-- other) is the non-fossil part; the other five varieties are fossil fuels.

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

monthly as (
    select * from {{ ref('stg_energy__monthly') }}
),

by_month as (
    select
        year,
        month,
        sum(monthly_tce) as total_tce,
        sum(monthly_tce) filter (where variety <> '一次电力及其他') as fossil_tce,
        coalesce(sum(monthly_tce) filter (where variety = '一次电力及其他'), 0) as nonfossil_tce,
        coalesce(sum(monthly_tce) filter (where variety = '原煤'), 0) as raw_coal_tce,
        count(distinct variety) as varieties_reported
    from monthly
    group by year, month
),

computed as (
    select
        year,
        month,
        total_tce,
        fossil_tce,
        nonfossil_tce,
        raw_coal_tce,
        varieties_reported,
        -- a month counts once every variety its year has is in it (a variety added one year on
        -- must not make every earlier month incomplete)
        varieties_reported = max(varieties_reported) over (partition by year) as is_complete
    from by_month
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year, month
