{{ config(materialized='table') }}

with monthly as (
    select * from {{ ref('stg_buildings__construction_waste') }}
),

final as (
    select
        year,
        count(distinct month) as months_reported,
        sum(generated_t) as generated_t,
        sum(recycled_t) as recycled_t,
        100 * sum(recycled_t) / nullif(sum(generated_t), 0) as recycling_rate_pct
    from monthly
    group by year
)

-- the city the warehouse is about (config.city): a province unions its cities' marts on it
select (select c.city_code from {{ source('config', 'city') }} as c) as city_code, final.* from final
order by final.year
