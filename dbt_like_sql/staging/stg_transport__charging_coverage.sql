{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'transport__charging_coverage') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, month, facility_type order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        cast(month as integer) as month,
        facility_type,
        facilities_total,
        facilities_with_fast_charging,
        _load_id
    from current_vintage
)

select * from final
