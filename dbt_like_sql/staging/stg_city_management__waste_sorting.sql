{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'city_management__waste_sorting') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, county_name order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        county_name,
        communities_total,
        communities_sorting,
        coverage_pct,
        _load_id
    from current_vintage
)

select * from final
