{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'energy__power_capacity') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, plant_type order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        plant_type,
        plant_type_name_zh,
        plant_type in ('hydro', 'wind', 'solar', 'biomass', 'nuclear') as is_clean,
        capacity_mw,
        _load_id
    from current_vintage
)

select * from final
