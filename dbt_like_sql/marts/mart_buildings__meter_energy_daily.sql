{{ config(materialized='incremental', unique_key='energy_date', incremental_strategy='delete+insert') }}

-- Energy per sub-meter and day, from its cumulative counter: the costly step of the buildings'
-- energy (a window over every reading), kept as a table that later builds only extend.
-- A reading closes the 15 minutes before it, so the interval ending at 00:00 belongs to the
-- day before. A counter that falls to a tenth of its value or less was reset and counts from
-- zero; any other fall (the gate quarantines those inside a day file, not across two) is no
-- energy at all: the interval is left out, never booked as the whole counter. After a gap
-- (missing or set-aside readings) the energy of the gap lands on the day readings resume.
-- Incremental: a later build recomputes the days from the day before the earliest day file
-- loaded since (new, late or re-published: meta.partitions' load_seq is newer than the table's),
-- each meter starting from its last reading before them; a build with nothing new reads no
-- readings. The days recomputed are replaced whole (unique_key energy_date). Left over: a day
-- whose intervals all disappear (a re-published day without its 00:00 readings, after a day
-- with no readings at all) keeps its old rows until a full refresh.
with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

readings as (
    select * from {{ ref('stg_buildings__meter_readings') }}
),

partitions as (
    select * from {{ source('meta', 'partitions') }}
    where dataset = 'buildings__meter_readings'
),

since as (
    -- intervals closing after this instant are computed; none when nothing is new
    {% if is_incremental() %}
        select cast(min(partition_day) - interval 1 day as timestamp) as since_ts
        from partitions
        where load_seq > (select coalesce(max(this._partitions_seq), -1) from {{ this }} as this)
    {% else %}
        select cast('-infinity' as timestamp) as since_ts
    {% endif %}
),

recent as (
    select
        r.meter_id,
        r.ts,
        r.reading
    from readings as r
    inner join since as s on r.ts > s.since_ts
),

opening as (
    -- each meter's last reading at or before `since`: the start of its first interval after it
    select
        r.meter_id,
        max(r.ts) as ts,
        arg_max(r.reading, r.ts) as reading
    from readings as r
    inner join since as s on r.ts <= s.since_ts
    group by r.meter_id
),

steps as (
    select
        meter_id,
        ts,
        reading,
        lag(reading) over by_meter as previous_reading
    from (
        select
            meter_id,
            ts,
            reading
        from recent
        union all
        select
            meter_id,
            ts,
            reading
        from opening
    ) as both_sides
    window by_meter as (partition by meter_id order by ts)
),

intervals as (
    select
        st.meter_id,
        cast(st.ts - interval 1 second as date) as energy_date,
        case
            when st.reading >= st.previous_reading then st.reading - st.previous_reading
            when st.reading <= 0.1 * st.previous_reading then st.reading
        end as amount
    from steps as st
    inner join since as s on st.ts > s.since_ts
    where st.previous_reading is not null
),

computed as (
    select
        meter_id,
        energy_date,
        sum(amount) as amount,
        count(*) as intervals,
        (select max(p.load_seq) from partitions as p) as _partitions_seq
    from intervals
    group by meter_id, energy_date
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by meter_id, energy_date
