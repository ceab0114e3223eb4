{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

ledger as (
    select * from {{ ref('stg_waste__industrial_waste') }}
),

computed as (
    select
        year,
        count(distinct month) as months_reported,
        sum(solid_generated_t) as solid_generated_t,
        sum(solid_utilized_t) as solid_utilized_t,
        100 * sum(solid_utilized_t) / nullif(sum(solid_generated_t), 0) as solid_utilization_pct,
        sum(hazardous_generated_t) as hazardous_generated_t,
        sum(hazardous_utilized_t) as hazardous_utilized_t,
        100 * sum(hazardous_utilized_t) / nullif(sum(hazardous_generated_t), 0) as hazardous_utilization_pct
    from ledger
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
