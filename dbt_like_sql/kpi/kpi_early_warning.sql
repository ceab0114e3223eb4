{{ config(materialized='table') }}

-- Year-to-date early warning (年度目标预警), in the spirit of the NDRC energy-saving barometer
-- (节能目标完成情况晴雨表): for each yearly KPI with monthly data (kpis.yml `year_to_date:`), what
-- the months so far say about the year, against what the plan requires of that year.
--
-- Projection (同比推算): the year's value is last year's value moved by the change of the months
-- so far on the same months of last year (ratio = ytd_value / prev_ytd_value). A level or share
-- is multiplied by the ratio; a "% change vs base" moves its underlying level, 1 + v/100. Last
-- year's value is its published figure, else its own projection from its latest month (the
-- spring before the yearly statistics appear).
-- Requirement: the plan's path for the year (kpi_required_path, to the nearest checkpoint at or
-- after it); after the last checkpoint, `after_last_checkpoint` (rising / improving) requires at
-- least last year's value; otherwise the plan sets nothing for the year and nothing is judged.
-- At a checkpoint year its qualifier applies: the 左右 band, 超过 strictly.
-- Level, from early_warning_min_months of data on (3: the barometer's first quarter):
--   3 三级 (green)   the projection meets the requirement: 进展基本顺利
--   2 二级 (yellow)  it misses, but improves on last year: 形势比较严峻
--   1 一级 (red)     it misses and does not improve on last year: 形势十分严峻
-- A year's warning is current at its latest month until the year's own figure is published
-- (then kpi_status judges the figure itself); actual_value then shows how close it came.
-- Grain: one row per kpi_id, year and month of year-to-date data.
-- A table, rebuilt at every build: kpi_status's column tests read it many times, and as a view
-- each of them re-ran it (the whole build took 5.7 s instead of 3.0 s).

with kpis as (
    select
        kpi_id,
        unit,
        base_year,
        after_last_checkpoint,
        early_warning_min_months as min_months,
        case when direction = 'higher_is_better' then 1 else -1 end as sense,
        unit = '% change vs base' as is_relative
    from {{ source('config', 'kpis') }}
),

checkpoints as (
    select * from {{ source('config', 'kpi_checkpoints') }}
),

held_through as (
    -- whole months only: a month still running (or after a backfill's year) is not judged
    select coalesce(max(data_through), max(as_of)) as held_day
    from {{ source('config', 'run_context') }}
),

ytd as (
    select y.*
    from {{ ref('kpi_ytd_series') }} as y
    where last_day(make_date(y.year, y.month, 1))
        <= coalesce((select h.held_day from held_through as h), date '9999-12-31')
),

series as (
    select
        kpi_id,
        year,
        value
    from {{ ref('kpi_series') }}
    where value is not null
),

same_months as (
    select
        cur.kpi_id,
        cur.year,
        cur.month,
        cur.ytd_value,
        prev.ytd_value as prev_ytd_value,
        cur.ytd_value / nullif(prev.ytd_value, 0) as ratio
    from ytd as cur
    left join ytd as prev
        on cur.kpi_id = prev.kpi_id and cur.year = prev.year + 1 and cur.month = prev.month
),

from_published as (
    select
        s.*,
        k.is_relative,
        p.value as published_prev,
        a.value as actual_value,
        if(k.is_relative, 100 * ((1 + p.value / 100) * s.ratio - 1), p.value * s.ratio) as projected
    from same_months as s
    inner join kpis as k using (kpi_id)
    left join series as p on s.kpi_id = p.kpi_id and s.year = p.year + 1
    left join series as a on s.kpi_id = a.kpi_id and s.year = a.year
),

year_end as (
    -- a year's projection from its latest month: last year's value while its figure is unpublished
    select
        kpi_id,
        year,
        max(month) as month,
        arg_max(projected, month) as projected
    from from_published
    group by kpi_id, year
),

based as (
    select
        f.*,
        coalesce(f.published_prev, e.projected) as prev_value,
        case
            when f.published_prev is not null then 'published'
            when e.projected is not null then 'projected'
        end as prev_basis,
        e.month as prev_basis_month
    from from_published as f
    left join year_end as e on f.kpi_id = e.kpi_id and f.year = e.year + 1
),

projected as (
    select
        *,
        if(is_relative, 100 * ((1 + prev_value / 100) * ratio - 1), prev_value * ratio)
            as projected_value,
        max(month) over (partition by kpi_id, year) = month and actual_value is null as is_current
    from based
),

path_years as (
    -- the plan's path for the year, to the nearest checkpoint at or after it
    select
        kpi_id,
        year,
        min(checkpoint_year) as checkpoint_year,
        arg_min(expected_value, checkpoint_year) as required_value
    from {{ ref('kpi_required_path') }}
    group by kpi_id, year
),

last_checkpoints as (
    select
        kpi_id,
        max(checkpoint_year) as checkpoint_year
    from checkpoints
    group by kpi_id
),

required as (
    select
        p.*,
        k.sense,
        k.unit,
        k.base_year,
        k.min_months,
        coalesce(
            py.checkpoint_year,
            if(p.year > lc.checkpoint_year and k.after_last_checkpoint is not null, lc.checkpoint_year, null)
        ) as checkpoint_year,
        case
            when py.required_value is not null then py.required_value
            when p.year > lc.checkpoint_year and k.after_last_checkpoint is not null then p.prev_value
        end as required_value,
        case
            when py.required_value is not null and py.checkpoint_year = p.year then 'target'
            when py.required_value is not null then 'path'
            when
                p.year > lc.checkpoint_year and k.after_last_checkpoint is not null
                then 'after_last_checkpoint'
        end as requirement_kind,
        lc.checkpoint_year as last_checkpoint_year
    from projected as p
    inner join kpis as k using (kpi_id)
    left join path_years as py on p.kpi_id = py.kpi_id and p.year = py.year
    left join last_checkpoints as lc on p.kpi_id = lc.kpi_id
),

judged as (
    select
        r.*,
        c.qualifier,
        coalesce(c.tolerance, if(c.qualifier = 'full', 0.05, 0)) as band,
        case
            -- at the checkpoint year the plan's words apply: the 左右 band, 超过 strictly
            when r.requirement_kind = 'target' and c.qualifier = 'more_than'
                then r.projected_value > r.required_value
            when r.requirement_kind = 'target'
                -- the band kpi_status uses: 左右's tolerance; 0.05 for `full` (met at 99.95)
                then r.sense * (r.projected_value - r.required_value)
                    >= -coalesce(c.tolerance, if(c.qualifier = 'full', 0.05, 0))
            else r.sense * (r.projected_value - r.required_value) >= 0
        end as meets,
        r.sense * (r.projected_value - r.prev_value) > 0 as improves
    from required as r
    left join checkpoints as c on r.kpi_id = c.kpi_id and r.checkpoint_year = c.checkpoint_year
),

leveled as (
    select
        *,
        case
            when month < min_months or projected_value is null or required_value is null then null
            when meets then 3
            when improves then 2
            else 1
        end as warning_level,
        -- how values are written: a change vs base as a signed percent, others in the KPI's unit
        case when unit in ('% change vs base', '%') then '%' when unit = 'ratio' then '' else unit end
            as unit_text,
        if(unit = '% change vs base', format('较{}年；', base_year), '') as base_zh,
        if(unit = '% change vs base', format(' (vs {})', base_year), '') as base_en,
        case
            when requirement_kind = 'target' and qualifier = 'more_than' then '>'
            when requirement_kind = 'target' and qualifier = 'about' then '≈'
            when requirement_kind = 'target' and qualifier = 'full' then '='
            when sense = 1 then '≥'
            else '≤'
        end as symbol,
        if(month = 1, '1月', format('1–{}月', month)) as months_zh,
        if(month = 1, 'January', format('January–{}', monthname(make_date(2000, month, 1)))) as months_en
    from judged
),

worded as (
    select
        *,
        case
            when month < min_months
                then format('{}年仅有{}数据，满{}个月后开始预警', year, months_zh, min_months)
            when prev_ytd_value is null
                then format('{}年{}上年同期无数据，无法同比推算', year, months_zh)
            when prev_ytd_value = 0
                then format('{}年{}上年同期为零，无法同比推算', year, months_zh)
            when projected_value is null
                then format('{}年的上年数值（{}年）尚无，无法推算', year, year - 1)
            else format(
                    '按{}年{}同比{}推算，全年预计为{}{}（{}{}年{}：{}）',
                    year, months_zh, format('{:+.1f}%', 100 * (ratio - 1)),
                    format('{:.4g}', projected_value), unit_text, base_zh, year - 1,
                    if(prev_basis = 'published', '实际', '预计'), format('{:.4g}', prev_value)
                )
        end
        || case
            when month < min_months or projected_value is null then ''
            when required_value is null then format('；规划未设{}年要求，不作判断', year)
            else format(
                    '；{}{}{}{}',
                    case requirement_kind
                        when 'target' then format('{}年目标', year)
                        when 'path' then format('按规划路径{}年应', year)
                        else format('{}年后应较上年', last_checkpoint_year)
                    end,
                    symbol, format('{:.4g}', required_value),
                    if(
                        meets, '，可达到',
                        format(
                            '，差{}{}', format('{:.3g}', abs(projected_value - required_value)),
                            if(improves, '，但较上年改善', '，且较上年无改善')
                        )
                    )
                )
        end as warning_reason_zh,
        case
            when month < min_months
                then format(
                        '{}: only {} {} so far; the warning starts after {} months',
                        year,
                        months_en,
                        year,
                        min_months
                    )
            when prev_ytd_value is null
                then format(
                        '{} {}: no data for the same months of {}, nothing to project from',
                        months_en,
                        year,
                        year - 1
                    )
            when prev_ytd_value = 0
                then format(
                        '{} {}: the same months of {} are zero, nothing to project from',
                        months_en,
                        year,
                        year - 1
                    )
            when projected_value is null
                then format('{}: no value for {} yet, nothing to project from', year, year - 1)
            else format(
                    '{} {} against the same months of {} ({}) projects {}{}{} for {} ({} {}: {})',
                    months_en, year, year - 1, format('{:+.1f} %', 100 * (ratio - 1)),
                    format('{:.4g}', projected_value), if(unit_text = '', '', ' ' || unit_text), base_en,
                    year, year - 1, if(prev_basis = 'published', 'published', 'projected'),
                    format('{:.4g}', prev_value)
                )
        end
        || case
            when month < min_months or projected_value is null then ''
            when required_value is null then format('; the plan sets nothing for {}: not judged', year)
            else format(
                    '; {} {} {}{}',
                    case requirement_kind
                        when 'target' then format('the {} target is', year)
                        when 'path' then format('the plan''s path for {} is', year)
                        else format(
                                'after {} each year must be at least as good as the last:',
                                last_checkpoint_year
                            )
                    end,
                    symbol, format('{:.4g}', required_value),
                    if(
                        meets, ', met',
                        format(
                            ', missed by {}{}', format('{:.3g}', abs(projected_value - required_value)),
                            if(improves, ', but better than last year', ', and no better than last year')
                        )
                    )
                )
        end as warning_reason_en
    from leveled
),

final as (
    select
        kpi_id,
        checkpoint_year,
        year,
        month as through_month,
        round(ytd_value, 6) as ytd_value,
        round(prev_ytd_value, 6) as prev_ytd_value,
        round(100 * (ratio - 1), 4) as ytd_change_pct,
        round(prev_value, 4) as prev_year_value,
        prev_basis as prev_year_basis,
        round(projected_value, 4) as projected_value,
        round(required_value, 4) as required_value,
        requirement_kind,
        qualifier,
        round(projected_value - required_value, 4) as gap,
        warning_level,
        coalesce(qualifier, '') <> 'strive' as is_pageable,
        is_current,
        round(actual_value, 4) as actual_value,
        warning_reason_zh,
        warning_reason_en
    from worded
)

select * from final
order by kpi_id, year, through_month
