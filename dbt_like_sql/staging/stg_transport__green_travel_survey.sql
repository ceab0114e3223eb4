{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'transport__green_travel_survey') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        walk_pct,
        bike_pct,
        public_transport_pct,
        car_pct,
        taxi_pct,
        other_pct,
        _load_id
    from current_vintage
)

select * from final
