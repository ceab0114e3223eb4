{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'waste__industrial_waste') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, month, enterprise_name order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        cast(month as integer) as month,
        county_name,
        enterprise_name,
        solid_generated_t,
        solid_utilized_t,
        solid_disposed_t,
        solid_stored_t,
        hazardous_generated_t,
        hazardous_utilized_t,
        hazardous_disposed_t,
        _load_id
    from current_vintage
)

select * from final
