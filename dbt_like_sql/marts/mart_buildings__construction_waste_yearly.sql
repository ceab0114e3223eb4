{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

monthly as (
    select * from {{ ref('stg_buildings__construction_waste') }}
),

computed as (
    select
        year,
        count(distinct month) as months_reported,
        sum(generated_t) as generated_t,
        sum(recycled_t) as recycled_t,
        100 * sum(recycled_t) / nullif(sum(generated_t), 0) as recycling_rate_pct
    from monthly
    group by year
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
