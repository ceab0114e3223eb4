{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'public_institutions__energy_use') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, county_name, institution_type order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        county_name,
        institution_type,
        institutions,
        floor_area_m2,
        staff,
        energy_tce,
        co2_t,
        _load_id
    from current_vintage
)

select * from final
