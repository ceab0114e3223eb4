{{ config(materialized='view') }}

-- One row per KPI checkpoint of the plan, with its latest value and a status:
--   achieved           the checkpoint year has data and the target is met
--   off_track          the checkpoint year has passed and the target was missed, or the trend
--                      leads well away from the target
--   on_track           the trend of the last five years, projected to the checkpoint, meets it
--   at_risk            meets it today but the trend leads away, or the projection misses by < 5 %
--   insufficient_data  no data, or fewer than three years to project from
--   stale              a source the KPI is built from failed at its last run (its department's
--                      data may be out of date); the values shown are from the last good load
-- "about" targets count as met within their tolerance; "strive" targets are judged the same way
-- (they differ in alerting, not in status).
-- A KPI in unit "year" (carbon_peak) is a peak year its view has already projected, re-estimated
-- every year: it is achieved once the peak lies three or more years back (the view reports an
-- earlier year only then), on_track while the estimate meets the target, off_track otherwise.
-- Its view reports 2061 for "no downturn projected before 2060".

with kpis as (
    select * from {{ source('config', 'kpis') }}
),

checkpoints as (
    select * from {{ source('config', 'kpi_checkpoints') }}
),

series as (
    select * from {{ ref('kpi_series') }}
),

-- the raw tables behind each KPI view (kpi_<sector>__<kpi_id>), and those that failed last time
kpi_sources as (
    select distinct split_part(model, '__', 2) as kpi_id, replace(source, 'raw.', '') as dataset
    from {{ source('meta', 'lineage') }}
    where model like 'kpi.kpi_%\_\_%' escape '\' and source like 'raw.%'
),

failing as (
    select
        k.kpi_id,
        string_agg(distinct h.department, ', ' order by h.department) as departments,
        max(h.checked_at) as failed_at,
        min(h.last_success_at) as last_success_at,
        any_value(h.error) as error
    from kpi_sources k
    join {{ source('meta', 'source_health') }} h on h.dataset = k.dataset
    where h.status = 'failed'
    group by k.kpi_id
),

latest as (
    select kpi_id, max(year) as latest_year
    from series
    group by kpi_id
),

trend as (
    -- least-squares slope over the last five observed years
    select s.kpi_id, regr_slope(s.value, s.year) as slope_per_year, count(*) as trend_points
    from series s
    join latest l using (kpi_id)
    where s.year > l.latest_year - 5
    group by s.kpi_id
),

joined as (
    select
        c.kpi_id,
        c.checkpoint_year,
        c.target_value,
        c.qualifier,
        k.name_zh,
        k.name_en,
        k.unit,
        k.section,
        k.position,
        k.pending,
        case when k.direction = 'higher_is_better' then 1 else -1 end as sense,
        case when c.qualifier = 'about' then coalesce(c.tolerance, 0) else 0 end as slack,
        l.latest_year,
        lv.value as latest_value,
        cv.value as checkpoint_value,
        t.slope_per_year,
        t.trend_points,
        f.departments as failing_departments,
        f.error as failing_error
    from checkpoints c
    join kpis k using (kpi_id)
    left join latest l using (kpi_id)
    left join series lv on lv.kpi_id = c.kpi_id and lv.year = l.latest_year
    left join series cv on cv.kpi_id = c.kpi_id and cv.year = c.checkpoint_year
    left join trend t on t.kpi_id = c.kpi_id
    left join failing f on f.kpi_id = c.kpi_id
),

projected as (
    select
        *,
        case
            -- a peak year is a projection already: judge the latest estimate
            when unit = 'year' then latest_value
            when latest_year >= checkpoint_year then checkpoint_value
            -- a share cannot be projected past 0–100 %
            when trend_points >= 3 and unit = '%' then least(greatest(
                latest_value + slope_per_year * (checkpoint_year - latest_year), 0), 100)
            when trend_points >= 3
                then latest_value + slope_per_year * (checkpoint_year - latest_year)
        end as projected_value,
        case when qualifier = 'about' then '≈' when sense = 1 then '≥' else '≤' end as relation
    from joined
),

judged as (
    select
        *,
        -- positive = on the good side of the target, in the KPI's unit
        sense * (latest_value - target_value) as latest_margin,
        sense * (projected_value - target_value) as projected_margin,
        format('{} {:.4g} {}', relation, target_value, unit) as target_text
    from projected
),

statused as (
    select
        *,
        case
            when failing_departments is not null then 'stale'
            when latest_year is null then 'insufficient_data'
            when unit = 'year' and projected_margin < 0 then 'off_track'
            when unit = 'year' and latest_value <= latest_year - 3 then 'achieved'
            when unit = 'year' then 'on_track'
            when latest_year >= checkpoint_year and checkpoint_value is null then 'insufficient_data'
            when latest_year >= checkpoint_year and projected_margin >= -slack then 'achieved'
            when latest_year >= checkpoint_year then 'off_track'
            when projected_value is null then 'insufficient_data'
            when projected_margin >= -slack then 'on_track'
            when latest_margin >= -slack then 'at_risk'
            when projected_margin >= -slack - 0.05 * abs(target_value) then 'at_risk'
            else 'off_track'
        end as status
    from judged
),

final as (
    select
        kpi_id,
        name_zh,
        name_en,
        checkpoint_year,
        target_value,
        qualifier,
        unit,
        latest_year,
        latest_value,
        round(projected_value, 2) as projected_value,
        round(projected_value - target_value, 2) as gap,
        status,
        case
            when status = 'stale'
                then format('stale: the {} source failed at the last run, values are from the last '
                            'good load. {}', failing_departments, left(failing_error, 240))
            when latest_year is null
                then 'no observations yet: ' || coalesce(pending, case when unit = 'year'
                     then 'a peak year is estimated from three or more years of data'
                     else 'the departmental data this KPI needs is not ingested' end)
            when unit = 'year' and status = 'achieved'
                then format('peaked in {} and stayed below that peak for {} years (data to {}), '
                            'meeting the target {}', cast(latest_value as integer),
                            latest_year - cast(latest_value as integer), latest_year, target_text)
            when unit = 'year' and latest_value > 2060
                then format('still rising in {} with no downturn projected before 2060, against the '
                            'target {}', latest_year, target_text)
            when unit = 'year' and latest_value > latest_year
                then format('projected peak in {}: the trend of the yearly increase reaches zero after '
                            'that year (data to {}), {} the target {}', cast(latest_value as integer),
                            latest_year, if(status = 'on_track', 'meeting', 'missing'), target_text)
            when unit = 'year'
                then format('no longer rising in {}, estimated peak year {} (not yet three years behind), '
                            '{} the target {}', latest_year, cast(latest_value as integer),
                            if(status = 'on_track', 'meeting', 'missing'), target_text)
            when status = 'insufficient_data' and latest_year >= checkpoint_year
                then format('no value for {} although data runs to {}', checkpoint_year, latest_year)
            when status = 'insufficient_data'
                then format('only {} year(s) of data up to {}: at least 3 are needed to project to {}',
                            trend_points, latest_year, checkpoint_year)
            when status = 'achieved'
                then format('{} value {:.4g} {} meets the target {}', checkpoint_year,
                            checkpoint_value, unit, target_text)
            when latest_year >= checkpoint_year
                then format('missed: {} value {:.4g} {} against the target {}', checkpoint_year,
                            checkpoint_value, unit, target_text)
            when status = 'on_track'
                then format('trend projects {:.4g} {} in {} (latest {}: {:.4g}), meeting the target {}',
                            projected_value, unit, checkpoint_year, latest_year, latest_value, target_text)
            else format('trend projects {:.4g} {} in {} (latest {}: {:.4g}) against the target {}',
                        projected_value, unit, checkpoint_year, latest_year, latest_value, target_text)
        end as status_reason,
        section as plan_section,
        position as catalogue_position
    from statused
)

select * from final
order by catalogue_position, checkpoint_year
