{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'forestry__forest_resources') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, county_name order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        county_name,
        land_area_ha,
        forest_area_ha,
        forest_coverage_pct,
        stock_volume_m3,
        _load_id
    from current_vintage
)

select * from final
