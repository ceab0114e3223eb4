{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'energy__gdp') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        gdp_current_cny,
        gdp_2020_prices_cny,
        real_growth_pct,
        _load_id
    from current_vintage
)

select * from final
