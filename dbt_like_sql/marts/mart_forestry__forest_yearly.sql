{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

counties as (
    select * from {{ ref('stg_forestry__forest_resources') }}
),

computed as (
    select
        year,
        sum(land_area_ha) as land_area_ha,
        sum(forest_area_ha) as forest_area_ha,
        100 * sum(forest_area_ha) / sum(land_area_ha) as forest_coverage_pct,
        sum(stock_volume_m3) as stock_volume_m3,
        count(*) as counties_reporting
    from counties
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
