{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'transport__charging_points') }}
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
        public_points,
        dedicated_points,
        _load_id
    from current_vintage
)

select * from final
