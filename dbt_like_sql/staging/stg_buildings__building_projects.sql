{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'buildings__building_projects') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by project_id order by _load_seq desc) = 1
),

final as (
    select
        project_id,
        county_name,
        cast(permit_year as integer) as permit_year,
        cast(completion_year as integer) as completion_year,
        building_use,
        floor_area_m2,
        is_urban,
        is_prefabricated,
        energy_standard,
        green_star,
        is_government_funded,
        has_energy_monitoring,
        is_large,
        _load_id
    from current_vintage
)

select * from final
