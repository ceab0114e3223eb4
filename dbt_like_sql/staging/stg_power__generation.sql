{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'power__generation') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year, month, plant_type order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        cast(month as integer) as month,
        plant_type,
        plant_type_name_zh,
        plant_type in ('hydro', 'wind', 'solar', 'biomass', 'nuclear') as is_clean,
        generation_mwh,
        updated_at,
        _load_id
    from current_vintage
)

select * from final
