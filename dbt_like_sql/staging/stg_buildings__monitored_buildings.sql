{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'buildings__monitored_buildings') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by building_id order by _load_seq desc) = 1
),

final as (
    select
        building_id,
        county_name,
        building_use,
        floor_area_m2,
        is_public_institution,
        monitoring_since,
        _load_id
    from current_vintage
)

select * from final
