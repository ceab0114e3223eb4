{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'transport__airport_equipment') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by year order by _load_seq desc) = 1
),

final as (
    select
        cast(year as integer) as year,
        equipment_total,
        electric_equipment,
        _load_id
    from current_vintage
)

select * from final
