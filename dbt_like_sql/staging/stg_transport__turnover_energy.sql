{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'transport__turnover_energy') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, month order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        cast(month as integer) as month,
        converted_turnover_tkm,
        gasoline_t,
        diesel_t,
        natural_gas_m3,
        electricity_mwh,
        _load_id
    from current_vintage
)

select * from final
