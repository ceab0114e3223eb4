{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

monthly as (
    select * from {{ ref('stg_power__generation') }}
),

capacity as (
    select
        year,
        total_capacity_mw,
        clean_capacity_mw
    from {{ ref('mart_power__capacity_yearly') }}
),

yearly as (
    select
        year,
        count(distinct month) as months_reported,
        -- rounded: parallel float sums differ in the last bits from run to run
        round(sum(generation_mwh), 3) as generation_mwh,
        round(sum(generation_mwh) filter (where is_clean), 3) as clean_generation_mwh
    from monthly
    group by year
),

computed as (
    select
        y.*,
        100 * y.clean_generation_mwh / nullif(y.generation_mwh, 0) as clean_generation_share_pct,
        -- a plant cannot run more than 8,760 hours a year: the quality gate's cross-check
        y.generation_mwh / nullif(c.total_capacity_mw * 8760, 0) as fleet_capacity_factor
    from yearly as y
    left join capacity as c using (year)
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
