{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'buildings__construction_waste') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, month, county_name order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        cast(month as integer) as month,
        county_name,
        generated_t,
        recycled_t,
        _load_id
    from current_vintage
)

select * from final
