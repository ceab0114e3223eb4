{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'city_management__domestic_waste') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, month, facility_name order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        cast(month as integer) as month,
        facility_name,
        county_name,
        received_t,
        recycled_t,
        incinerated_t,
        landfilled_t,
        other_t,
        _load_id
    from current_vintage
)

select * from final
