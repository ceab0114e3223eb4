{{ config(materialized='view') }}

with source as (
    select * from {{ source('raw', 'buildings__building_meters') }}
),

current_vintage as (
    select * from source
    qualify row_number() over (partition by meter_id order by _load_seq desc) = 1
),

final as (
    select
        meter_id,
        building_id,
        meter_kind,
        unit,
        _load_id
    from current_vintage
)

select * from final
