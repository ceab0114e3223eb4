{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'industry__cement_clinker') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, month, producer_name order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        cast(month as integer) as month,
        producer_name,
        capacity_tpd,
        clinker_t,
        energy_tce,
        energy_kgce_per_t,
        is_benchmark,
        _load_id
    from current_vintage
)

select * from final
