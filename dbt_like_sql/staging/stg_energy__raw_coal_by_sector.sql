{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'energy__raw_coal_by_sector') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, sector_code order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        sector_code,
        sector_name_zh,
        raw_coal_t,
        _load_id
    from current_vintage
)

select * from final
