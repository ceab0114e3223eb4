{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

projects as (
    select * from {{ ref('stg_buildings__building_projects') }}
),

computed as (
    select
        permit_year as year,
        count(*) as projects,
        sum(floor_area_m2) as floor_area_m2,
        sum(floor_area_m2) filter (where is_prefabricated) as prefab_m2,
        sum(floor_area_m2) filter (where building_use in ('住宅', '公共建筑')) as civil_m2,
        sum(floor_area_m2) filter (where building_use in ('住宅', '公共建筑') and energy_standard = '72%')
            as civil_72pct_m2,
        sum(floor_area_m2) filter (where is_urban) as urban_m2,
        sum(floor_area_m2) filter (where is_urban and green_star is not null) as urban_green_m2,
        sum(floor_area_m2) filter (where green_star is not null) as green_m2,
        sum(floor_area_m2) filter (where green_star >= 1) as star_m2,
        sum(floor_area_m2) filter (where is_large) as large_m2,
        sum(floor_area_m2) filter (where is_large and green_star >= 1) as large_star_m2,
        sum(floor_area_m2) filter (where building_use = '公共建筑' and (is_large or is_government_funded))
            as large_public_m2,
        sum(floor_area_m2) filter (
            where building_use = '公共建筑' and (is_large or is_government_funded)
            and has_energy_monitoring
        ) as large_public_monitored_m2
    from projects
    group by permit_year
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
