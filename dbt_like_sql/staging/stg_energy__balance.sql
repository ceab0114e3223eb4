{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'energy__balance') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, fuel_code order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        fuel_code,
        fuel_name_zh,
        is_fossil,
        physical_amount,
        physical_unit,
        consumption_tce,
        _load_id
    from current_vintage
)

select * from final
