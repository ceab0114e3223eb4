{{ config(materialized='view') }}

-- A day's current rows are those of the load meta.partitions names for it: a re-published day
-- replaces its partition, and a pending (unvalidated) load is never read. Raw rows carry the
-- load's number only (an id on each of millions of rows slowed the load); the id comes from here.
with source as (
    select * from {{ source('raw', 'buildings__meter_readings') }}
),

partitions as (
    select * from {{ source('meta', 'partitions') }}
    where dataset = 'buildings__meter_readings'
),

final as (
    select
        r.reading_date,
        r.building_id,
        r.meter_id,
        r.ts,
        r.reading,
        r.unit,
        p.load_id as _load_id
    from source as r
    inner join partitions as p
        on r._load_seq = p.load_seq and r.reading_date = p.partition_day
)

select * from final
