{{ config(materialized='table') }}

with ledger as (
    select * from {{ ref('stg_waste__industrial_waste') }}
),

final as (
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
)

-- the city the warehouse is about (config.city): a province unions its cities' marts on it
select (select c.city_code from {{ source('config', 'city') }} as c) as city_code, final.* from final
order by final.year
