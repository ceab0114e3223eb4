{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'water__sewage_sludge') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, plant_name order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        plant_name,
        county_name,
        sludge_t,
        safely_disposed_t,
        _load_id
    from current_vintage
)

select * from final
