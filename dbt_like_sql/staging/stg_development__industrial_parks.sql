{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'development__industrial_parks') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, park_name order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        park_name,
        park_level,
        is_eligible,
        is_retrofitted,
        _load_id
    from current_vintage
)

select * from final
