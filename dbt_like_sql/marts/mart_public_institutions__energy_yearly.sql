{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

rows as (
    select * from {{ ref('stg_public_institutions__energy_use') }}
),

computed as (
    select
        year,
        sum(floor_area_m2) as floor_area_m2,
        sum(staff) as staff,
        sum(energy_tce) as energy_tce,
        sum(co2_t) as co2_t,
        sum(energy_tce) * 1000 / sum(floor_area_m2) as energy_kgce_per_m2,
        sum(energy_tce) * 1000 / sum(staff) as energy_kgce_per_person,
        sum(co2_t) * 1000 / sum(floor_area_m2) as co2_kg_per_m2
    from rows
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
