{{ config(
    materialized='incremental',
    unique_key='energy_date',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where energy_date >= (select min(partition_day) - 1 from {{ source('meta', 'partitions') }} where dataset = 'buildings__meter_readings' and load_seq > (select max(_partitions_seq) from {{ this }})) or city_code is distinct from (select city_code from {{ source('config', 'city') }}){% endif %}"
) }}

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
-- readings. The pre_hook first deletes every row from that day on (and every row, when the
-- city's code changed): a day whose intervals all disappeared (its readings re-published empty,
-- or all set aside) must not keep its old rows, which replacing by unique_key alone would leave.
-- It relies on one writer of the readings at a time (the department's ingest holds its scope):
-- a load numbered before another but committed after it would not be seen.
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
    -- intervals closing after this instant (a reading at `since_ts` or later) are computed;
    -- none when nothing is new. A table of another city code was emptied by the pre_hook: its
    -- newest load is then none, so every day is recomputed.
    {% if is_incremental() %}
        select cast(min(partition_day) - interval 1 day as timestamp) + interval 1 second as since_ts
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
    inner join since as s on r.ts >= s.since_ts
),

opening as (
    -- each meter's last reading before `since`: the start of its first interval after it
    select
        r.meter_id,
        max(r.ts) as ts,
        arg_max(r.reading, r.ts) as reading
    from readings as r
    inner join since as s on r.ts < s.since_ts
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
    inner join since as s on st.ts >= s.since_ts
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
