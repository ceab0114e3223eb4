{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'energy__monthly') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, month, variety order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        cast(month as integer) as month,
        variety,
        monthly_tce,
        cumulative_tce,
        _load_id
    from current_vintage
)

select * from final
