{{ config(materialized='view') }}

-- One row per KPI checkpoint of the plan: where the KPI is, where the plan's path says it should be
-- by now, where its trend leads, and a status with a plain-language reason. kpi_status.yml holds
-- the same rules in prose.
--
-- It is the last of four steps, each a model with its grain and tests:
--   kpi_data_age       how old each dataset's data is (stale)
--   kpi_required_path  the plan's path to each checkpoint, year by year (expected_value = the path
--                      in latest_year; the target once the checkpoint year is passed)
--   kpi_trend          the latest value and the Theil–Sen line of each KPI
--   kpi_status         judging and the words (this file)
-- Projection (projected_value): the Theil–Sen line of kpi_trend carried to the checkpoint year.
--   Needs three observations.
--   Shares are held in 0–100 %, changes vs base above -100 %, other levels at 0 or more. Once the
--   checkpoint year has a value, that observed value is the projection.
-- Tolerances, in the KPI's unit: band = the `about` band (config.kpi_checkpoints.tolerance: the
--   catalogue's one rule, about_band_pct of |target|), 0.05 for `full` (achieved at >= 99.95 %),
--   else 0; near = 5 % of |target|; on_path = 2 % of |target|.
-- Met: within the band, except `more_than` (超过): strictly beyond the target.
-- Status, first rule that applies:
--   stale              a source the KPI is built from failed at its last run (meta.source_health),
--                      or its data is too old on the run's as-of date (kpi_data_age, judged at
--                      every build). The reason also says what the last values show.
--   insufficient_data  no data
--   off_track          stay_at_least (稳定在…以上): a year after the previous checkpoint, up to this
--                      one, fell below the level
--   insufficient_data  the checkpoint year passed without a value
--   checkpoint year observed:
--     off_track        after_last_checkpoint rising / improving, this is the last checkpoint, and
--                      a later year is worse than the year before it (in the KPI's direction)
--     achieved         the checkpoint year's value meets the target
--     off_track        it does not
--   before the checkpoint year:
--     insufficient_data  fewer than 3 observations
--     off_track        the projection misses the target by more than band + near, or the latest
--                      value is behind the path by more than band + near
--     on_track         the projection meets the target and the latest value is behind the path
--                      by no more than band + on_path (or there is no path)
--     at_risk          otherwise: one check, or both, miss narrowly
--   A latest value that already meets the target before the year is on_track, not achieved (the
--   plan judges the year's value); the reason starts "already met (已提前达到)".
-- `about` bands are one-sided: beating "about 5 %" is not a miss. `strive` (力争) targets are judged
-- the same way and are not pageable, except when a fall after them breaks the plan's clause that
-- follows (进一步提升), which is no stretch goal.
-- Reasons are written twice, Chinese and English (status_reason = zh / en).
-- A KPI in unit "year" (carbon_peak) is a peak year its view has already projected, re-estimated
-- every year: it is achieved once the peak lies three or more years back (the view reports an
-- earlier year only then), on_track while the estimate meets the target, off_track otherwise.
-- Its view reports 2061 for "no downturn projected before 2060". It has no path.
--
-- Why it is still ~500 lines: judging and wording share every column of a row, and the reasons
-- are written in Chinese and English side by side; splitting them further would repeat the
-- same columns in two more models.

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' statuses on it
    select city_code from {{ source('config', 'city') }}
),

kpis as (
    select
        *,
        case when direction = 'higher_is_better' then 1 else -1 end as sense,
        unit = '% change vs base' as is_relative
    from {{ source('config', 'kpis') }}
),

checkpoints as (
    select * from {{ source('config', 'kpi_checkpoints') }}
),

series as (
    select
        kpi_id,
        year,
        value
    from {{ ref('kpi_series') }}
    where value is not null
),

-- Why a KPI's data may be out of date ----------------------------------------------------------

-- the raw tables behind each KPI view (kpi_<sector>__<kpi_id>)
kpi_sources as (
    select distinct
        split_part(model, '__', 2) as kpi_id,
        replace(source, 'raw.', '') as dataset
    from {{ source('meta', 'lineage') }}
    where model like 'kpi.kpi_%\_\_%' escape '\' and source like 'raw.%'
),

health as (
    select * from {{ source('meta', 'source_health') }}
),

-- judged by age at every build, whether or not anything new arrived (kpi_data_age)
late as (
    select * from {{ ref('kpi_data_age') }}
    where is_late
),

source_problems as (
    select
        k.kpi_id,
        string_agg(distinct h.department, ', ' order by h.department)
        filter (where h.status = 'failed') as failed_departments,
        any_value(h.error) filter (where h.status = 'failed') as failed_error,
        string_agg(distinct l.department, ', ' order by l.department)
        filter (where l.dataset is not null) as late_departments,
        string_agg(l.age_reason_en, '; ' order by l.dataset) filter (where l.dataset is not null)
            as late_detail,
        string_agg(l.age_reason_zh, '；' order by l.dataset) filter (where l.dataset is not null)
            as late_detail_zh,
        string_agg(distinct k.dataset, ', ' order by k.dataset)
        filter (where h.status = 'failed' or l.dataset is not null) as stale_datasets
    from kpi_sources as k
    left join health as h on k.dataset = h.dataset
    left join late as l on k.dataset = l.dataset
    where h.status = 'failed' or l.dataset is not null
    group by k.kpi_id
),

-- What was observed, and where the trend leads ------------------------------------------------

trend as (
    select * from {{ ref('kpi_trend') }}  -- the latest value and the Theil–Sen line
),

last_checkpoints as (
    select
        kpi_id,
        max(checkpoint_year) as last_year
    from checkpoints
    group by kpi_id
),

-- after_last_checkpoint (稳中有升 / 进一步提升 / 进一步下降): the first year after the last checkpoint
-- that is worse than the year before it, in the KPI's direction
first_fall as (
    select
        s.kpi_id,
        s.year as fell_year,
        s.value as fell_value,
        s.previous_year,
        s.previous_value
    from (
        select
            *,
            lag(year) over w as previous_year,
            lag(value) over w as previous_value
        from series
        window w as (partition by kpi_id order by year)
    ) as s
    inner join kpis as k using (kpi_id)
    inner join last_checkpoints as c using (kpi_id)
    where k.after_last_checkpoint in ('rising', 'improving') and s.year > c.last_year
        and k.sense * (s.value - s.previous_value) < 0
    qualify row_number() over (partition by s.kpi_id order by s.year) = 1
),

-- stay_at_least (稳定在…以上): every year after the KPI's previous checkpoint, up to this one,
-- must hold the level; the first year below it is a breach
stay_breach as (
    select
        c.kpi_id,
        c.checkpoint_year,
        min(s.year) as breach_year,
        arg_min(s.value, s.year) as breach_value,
        any_value(c.previous_checkpoint) as stay_from
    from (
        select
            *,
            lag(checkpoint_year) over (partition by kpi_id order by checkpoint_year)
                as previous_checkpoint
        from checkpoints
    ) as c
    inner join series as s
        on c.kpi_id = s.kpi_id and c.checkpoint_year >= s.year
        and s.year > coalesce(c.previous_checkpoint, c.checkpoint_year - 1)
    where c.qualifier = 'stay_at_least' and s.value < c.target_value
    group by c.kpi_id, c.checkpoint_year
),

-- The plan's required path (kpi_required_path: one rule for the status and the report) --------

path as (
    select * from {{ ref('kpi_required_path') }}
),

path_described as (
    select
        kpi_id,
        checkpoint_year,
        any_value(path_kind) as path_kind,
        any_value(required_path) as required_path
    from path
    group by kpi_id, checkpoint_year
),

bases as (
    -- the base of the path (kpi_required_path); a KPI without one has no row
    select distinct
        kpi_id,
        base_year,
        base_value
    from path
),

-- Judging -----------------------------------------------------------------------------------------

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
        k.definition_zh,
        k.definition_en,
        k.sense,
        k.is_relative,
        -- the 左右 band is the catalogue's one rule (about_band_pct of |target|), in the KPI's unit
        case c.qualifier when 'about' then coalesce(c.tolerance, 0) when 'full' then 0.05 else 0 end as band,
        c.qualifier = 'more_than' as is_strict,
        0.05 * abs(c.target_value) as near,
        0.02 * abs(c.target_value) as on_path,
        if(abs(c.target_value) < 2, 4, 2) as digits,  -- decimals shown: ratios and 亿立方米 need four
        t.latest_year,
        t.latest_value,
        t.first_year,
        cv.value as checkpoint_value,
        t.trend_points,
        t.slope_per_year,
        t.trend_level + t.slope_per_year * (c.checkpoint_year - t.latest_year) as trend_at_checkpoint,
        b.base_year,
        b.base_value,
        pd.path_kind,
        pd.required_path,
        -- the path in latest_year, or the target once the checkpoint year is passed
        if(
            pd.kpi_id is not null and t.latest_year > c.checkpoint_year, c.target_value, pe.expected_value
        ) as expected_value,
        ff.fell_year,
        ff.fell_value,
        ff.previous_year,
        ff.previous_value,
        sb.breach_year,
        sb.breach_value,
        sb.stay_from,
        c.checkpoint_year = max(c.checkpoint_year) over (partition by c.kpi_id) as is_last_checkpoint,
        k.after_last_checkpoint,
        sp.failed_departments,
        sp.failed_error,
        sp.late_departments,
        sp.late_detail,
        sp.late_detail_zh,
        sp.stale_datasets
    from checkpoints as c
    inner join kpis as k using (kpi_id)
    left join trend as t using (kpi_id)
    left join series as cv on c.kpi_id = cv.kpi_id and c.checkpoint_year = cv.year
    left join bases as b on c.kpi_id = b.kpi_id
    left join path_described as pd on c.kpi_id = pd.kpi_id and c.checkpoint_year = pd.checkpoint_year
    left join path as pe
        on c.kpi_id = pe.kpi_id and c.checkpoint_year = pe.checkpoint_year and t.latest_year = pe.year
    left join first_fall as ff on c.kpi_id = ff.kpi_id
    left join stay_breach as sb on c.kpi_id = sb.kpi_id and c.checkpoint_year = sb.checkpoint_year
    left join source_problems as sp on c.kpi_id = sp.kpi_id
),

projected as (
    select
        *,
        case
            -- a peak year is a projection already: judge the latest estimate
            when unit = 'year' then latest_value
            when latest_year >= checkpoint_year then checkpoint_value
            -- (greatest/least skip nulls: no projection must stay null)
            when latest_year is null or trend_points < 3 then null
            when unit = '%' then least(greatest(trend_at_checkpoint, 0), 100)
            when is_relative then greatest(trend_at_checkpoint, -100)
            else greatest(trend_at_checkpoint, 0)
        end as projected_value,
        case
            when unit = 'year' then 'peak_year_estimate'
            when latest_year >= checkpoint_year then 'observed'
            when trend_points >= 3 then 'theil_sen'
        end as projection_method,
        case when qualifier = 'about' then '≈' when is_strict then '>' when sense = 1 then '≥' else '≤' end
            as relation,
        is_last_checkpoint and after_last_checkpoint in ('rising', 'improving') and fell_year is not null
            as has_fallen,
        -- how the numbers read: a change vs base in points, a level in its unit
        if(unit in ('%', '% change vs base'), ' points', ' ' || unit) as gap_unit,
        case when unit in ('%', '% change vs base') then '个百分点' when unit in ('ratio', 'year') then ''
            else unit
        end as gap_unit_zh,
        case when unit = '% change vs base' then '%' when unit in ('ratio', 'year') then '' else unit end
            as unit_zh
    from joined
),

judged as (
    select
        *,
        -- positive = on the good side, in the KPI's unit
        sense * (projected_value - target_value) as projected_margin,
        sense * (latest_value - target_value) as latest_margin,
        sense * (latest_value - expected_value) as path_margin,
        -- met: strictly beyond the target for 超过 (more_than), else within the band
        if(is_strict, projected_margin > 0, projected_margin >= -band) as projected_meets,
        if(is_strict, latest_margin > 0, latest_margin >= -band) as latest_meets,
        format('{} {:.4g} {}', relation, target_value, unit)
        || if(unit = 'ratio' and target_value > 0, format(' (1:{:.3g})', 1 / target_value), '')
        || if(qualifier = 'about', format(' 左右 (band ±{:.3g})', band), '')
            as target_text,
        format('{}{:.4g}{}', relation, target_value, unit_zh)
        || if(unit = 'ratio' and target_value > 0, format('（1:{:.3g}）', 1 / target_value), '')
        || if(qualifier = 'about', format('左右（允许偏差±{:.3g}）', band), '')
        || if(is_relative, format('（较{}年）', base_year), '')
            as target_text_zh,
        if(sense = 1, 'below', 'above') as short_side,
        if(sense = 1, '低于', '高于') as short_side_zh
    from projected
),

performance as (
    -- the status the values give, whatever the state of their sources
    select
        *,
        case
            when latest_year is null then 'insufficient_data'
            when unit = 'year' and projected_margin < 0 then 'off_track'
            when unit = 'year' and latest_value <= latest_year - 3 then 'achieved'
            when unit = 'year' then 'on_track'
            when breach_year is not null then 'off_track'
            when latest_year >= checkpoint_year and checkpoint_value is null then 'insufficient_data'
            when latest_year >= checkpoint_year and has_fallen then 'off_track'
            when latest_year >= checkpoint_year and projected_meets then 'achieved'
            when latest_year >= checkpoint_year then 'off_track'
            when projected_value is null then 'insufficient_data'
            when projected_margin < -(band + near) or path_margin < -(band + near) then 'off_track'
            when projected_meets and coalesce(path_margin >= -(band + on_path), true) then 'on_track'
            else 'at_risk'
        end as performance_status
    from judged
),

explained as (
    select
        *,
        case
            when latest_year is null
                then 'no observations yet: ' || coalesce(pending, case when unit = 'year'
                            then 'a peak year is estimated from three or more years of data'
                        else 'the departmental data this KPI needs is not ingested'
                    end)
            when unit = 'year' and performance_status = 'achieved'
                then format(
                        'peaked in {} and stayed below that peak for {} years (data to {}), '
                        'meeting the target {}', cast(latest_value as integer),
                        latest_year - cast(latest_value as integer), latest_year, target_text
                    )
            when unit = 'year' and latest_value > 2060
                then format(
                        'still rising in {} with no downturn projected before 2060, against the '
                        'target {}', latest_year, target_text
                    )
            when unit = 'year' and latest_value > latest_year
                then format(
                        'projected peak in {}: the trend of the yearly increase reaches zero after '
                        'that year (data to {}), {} the target {}', cast(latest_value as integer),
                        latest_year, if(performance_status = 'on_track', 'meeting', 'missing'),
                        target_text
                    )
            when unit = 'year'
                then format(
                        'no longer rising in {}, estimated peak year {} (not yet three years behind), '
                        '{} the target {}', latest_year, cast(latest_value as integer),
                        if(performance_status = 'on_track', 'meeting', 'missing'), target_text
                    )
            when breach_year is not null
                then format(
                        'fell below {:.4g} {} in {} ({:.4g}): the plan asks it to stay at or above '
                        'that level in every year after {} (稳定在…以上)', target_value, unit,
                        breach_year, breach_value, stay_from
                    )
            when latest_year >= checkpoint_year and checkpoint_value is null
                then format('no value for {} although data runs to {}', checkpoint_year, latest_year)
            when latest_year >= checkpoint_year
                then if(
                        projected_meets,
                        format(
                            '{} value {:.4g} {} meets the target {}', checkpoint_year, checkpoint_value,
                            unit, target_text
                        ),
                        format(
                            'missed: {} value {:.4g} {} against the target {}', checkpoint_year,
                            checkpoint_value, unit, target_text
                        )
                        || if(
                            projected_margin = 0, ': equal to it, and 超过 means strictly more',
                            format(', {:.3g}{} {} it', -projected_margin, gap_unit, short_side)
                        )
                    )
                    || case
                        when has_fallen
                            then format(
                                    '; but it {} from {:.4g} in {} to {:.4g} in {}, and the plan '
                                    'asks it to keep {} after {} ({})',
                                    if(sense = 1, 'fell', 'rose'), previous_value, previous_year,
                                    fell_value, fell_year, if(sense = 1, 'rising', 'falling'),
                                    checkpoint_year,
                                    if(sense = 1, '稳中有升 / 进一步提升', '进一步下降 / 进一步提高')
                                )
                        when is_last_checkpoint and after_last_checkpoint in ('rising', 'improving')
                            and latest_year > checkpoint_year
                            then format(
                                    '; it has not {} since (latest {}: {:.4g}), as the plan asks',
                                    if(sense = 1, 'fallen', 'risen'), latest_year, latest_value
                                )
                        else ''
                    end
            when projected_value is null
                then format(
                        'only {} year{} of data ({}): at least 3 are needed to project to {}',
                        trend_points, if(trend_points = 1, '', 's'),
                        if(
                            first_year = latest_year, cast(latest_year as varchar),
                            format('{}–{}', first_year, latest_year)
                        ), checkpoint_year
                    )
            else if(latest_meets, format(
                    'already met (已提前达到): latest {} value {:.4g} {} against the '
                    'target {}; ', latest_year, latest_value, unit, target_text
                ), '')
                || format(
                    'trend projects {:.4g} {} in {} (latest {}: {:.4g}){} the target {}',
                    round(projected_value, digits), unit, checkpoint_year, latest_year, latest_value,
                    if(projected_meets, ', meeting', ' against'), target_text
                )
                || if(
                    projected_meets, '',
                    format(
                        ', short by {:.3g}{}', -projected_margin,
                        if(projected_margin < -(band + near), ' (more than 5 % of the target)', '')
                    )
                )
                || case
                    when expected_value is null
                        then '; no required path (nothing observed since the base year)'
                    when path_margin >= 0
                        then format(
                                '; the plan''s path expects {:.4g} in {}: {:.3g} ahead of it',
                                round(expected_value, digits), latest_year, path_margin
                            )
                    else format(
                            '; the plan''s path expects {:.4g} in {}: {:.3g} behind it{}',
                            round(expected_value, digits), latest_year, -path_margin,
                            case
                                when path_margin < -(band + near)
                                    then ' (more than 5 % of the target)'
                                when path_margin < -(band + on_path)
                                    then ' (more than 2 % of the target)'
                                else ''
                            end
                        )
                end
        end as performance_reason,
        case
            when latest_year is null
                then if(
                        unit = 'year', '暂无数据：碳达峰年份需要三年以上的数据才能估计',
                        '暂无数据：该指标所需的部门数据尚未接入'
                    )
            when unit = 'year' and performance_status = 'achieved'
                then format(
                        '已于{}年达峰，此后{}年均低于峰值（数据至{}年），达到目标{}',
                        cast(latest_value as integer), latest_year - cast(latest_value as integer),
                        latest_year, target_text_zh
                    )
            when unit = 'year' and latest_value > 2060
                then format('{}年仍在上升，按趋势2060年前不会下降，目标{}', latest_year, target_text_zh)
            when unit = 'year' and latest_value > latest_year
                then format(
                        '预计{}年达峰：年增量的趋势在该年后降至零（数据至{}年），{}目标{}',
                        cast(latest_value as integer), latest_year,
                        if(performance_status = 'on_track', '符合', '不符合'), target_text_zh
                    )
            when unit = 'year'
                then format(
                        '{}年已不再上升，估计峰值年份为{}年（尚不满三年），{}目标{}', latest_year,
                        cast(latest_value as integer),
                        if(performance_status = 'on_track', '符合', '不符合'), target_text_zh
                    )
            when breach_year is not null
                then format(
                        '{}年为{:.4g}{}，低于{:.4g}{}：规划要求{}年后每年都稳定在该水平以上（稳定在…以上）',
                        breach_year, breach_value, unit_zh, target_value, unit_zh, stay_from
                    )
            when latest_year >= checkpoint_year and checkpoint_value is null
                then format('数据已到{}年，但缺少{}年的数值', latest_year, checkpoint_year)
            when latest_year >= checkpoint_year
                then if(
                        projected_meets,
                        format(
                            '{}年实际值{:.4g}{}，达到目标{}', checkpoint_year, checkpoint_value, unit_zh,
                            target_text_zh
                        ),
                        format(
                            '未达标：{}年实际值{:.4g}{}，目标{}', checkpoint_year, checkpoint_value,
                            unit_zh, target_text_zh
                        )
                        || if(
                            projected_margin = 0, '：与目标持平，而“超过”须严格大于',
                            format('，{}目标{:.3g}{}', short_side_zh, -projected_margin, gap_unit_zh)
                        )
                    )
                    || case
                        when has_fallen
                            then format(
                                    '；但{}年由{:.4g}{}为{}年的{:.4g}，规划要求{}年后{}',
                                    previous_year, previous_value, if(sense = 1, '降', '升'),
                                    fell_year, fell_value, checkpoint_year,
                                    if(sense = 1, '稳中有升、进一步提升', '进一步下降（能效进一步提高）')
                                )
                        when is_last_checkpoint and after_last_checkpoint in ('rising', 'improving')
                            and latest_year > checkpoint_year
                            then format(
                                    '；此后未再{}（最新{}年：{:.4g}），符合规划要求',
                                    if(sense = 1, '下降', '上升'), latest_year, latest_value
                                )
                        else ''
                    end
            when projected_value is null
                then format(
                        '仅有{}年数据（{}）：至少需要3年才能推算{}年', trend_points,
                        if(
                            first_year = latest_year, cast(latest_year as varchar),
                            format('{}–{}', first_year, latest_year)
                        ), checkpoint_year
                    )
            else if(latest_meets, format(
                    '已提前达到：{}年最新值{:.4g}{}，目标{}；', latest_year, latest_value,
                    unit_zh, target_text_zh
                ), '')
                || format(
                    '按趋势推算{}年为{:.4g}{}（最新{}年：{:.4g}），{}目标{}', checkpoint_year,
                    round(projected_value, digits), unit_zh, latest_year, latest_value,
                    if(projected_meets, '达到', '未达到'), target_text_zh
                )
                || if(
                    projected_meets, '',
                    format(
                        '，差{:.3g}{}', -projected_margin,
                        if(projected_margin < -(band + near), '（超过目标的5%）', '')
                    )
                )
                || case
                    when expected_value is null then '；无规划路径（基准年以来无观测值）'
                    when path_margin >= 0
                        then format(
                                '；按规划路径{}年应为{:.4g}，领先{:.3g}', latest_year,
                                round(expected_value, digits), path_margin
                            )
                    else format(
                            '；按规划路径{}年应为{:.4g}，落后{:.3g}{}', latest_year,
                            round(expected_value, digits), -path_margin,
                            case
                                when path_margin < -(band + near) then '（超过目标的5%）'
                                when path_margin < -(band + on_path) then '（超过目标的2%）'
                                else ''
                            end
                        )
                end
        end as performance_reason_zh
    from performance
),

statused as (
    select
        *,
        failed_departments is not null as has_failed_source,
        late_departments is not null as has_late_data,
        if(failed_departments is not null or late_departments is not null, 'stale', performance_status)
            as status,
        'stale: ' || concat_ws(
            '; ',
            format(
                'the {} source failed at the last run, values are from the last good load ({})',
                failed_departments, left(failed_error, 240)
            ),
            'late data: ' || late_detail
        ) as stale_reason,
        '数据过期：' || concat_ws(
            '；',
            format(
                '{}上次采集失败，数值为最近一次成功采集的结果（{}）', failed_departments,
                left(failed_error, 240)
            ),
            '数据迟报：' || late_detail_zh
        ) as stale_reason_zh,
        -- a 力争 checkpoint pages when a later year breaks the plan's clause after it (进一步提升),
        -- which is no stretch goal
        qualifier <> 'strive' or (has_fallen and performance_status = 'off_track') as is_pageable
    from explained
),

worded as (
    select
        *,
        if(
            status = 'stale',
            stale_reason || '. The last values show ' || performance_status || ': ' || performance_reason,
            performance_reason
        )
        || case
            when qualifier = 'strive' and is_pageable
                then '. 力争 (strive) target, but the fall breaks the plan''s clause after it, '
                    || 'which is not 力争: paged'
            when qualifier = 'strive' then '. 力争 (strive) target: reported, never paged'
            else ''
        end
        || coalesce('. 口径 definition: ' || definition_en, '') as status_reason_en,
        if(
            status = 'stale', stale_reason_zh || '。按最近的数值：' || performance_reason_zh,
            performance_reason_zh
        )
        || case
            when qualifier = 'strive' and is_pageable then '。力争目标，但其后的下降违反了非力争条款，予以预警'
            when qualifier = 'strive' then '。力争目标：仅报告，不预警'
            else ''
        end
        || coalesce('。口径：' || definition_zh, '') as status_reason_zh
    from statused
),

early_warnings as (
    -- the checkpoint's year-to-date early warning (kpi_early_warning): its latest year whose own
    -- figure is not published yet, at its latest month
    select
        kpi_id,
        checkpoint_year,
        year as early_warning_year,
        through_month as early_warning_through_month,
        warning_level as early_warning_level,
        projected_value as early_warning_projected_value,
        warning_reason_zh as early_warning_reason_zh,
        warning_reason_en as early_warning_reason_en
    from {{ ref('kpi_early_warning') }}
    where is_current and checkpoint_year is not null
    -- the checkpoint year's own warning first (its December projection in the spring after), then
    -- the latest year under an after_last_checkpoint clause
    qualify row_number() over (
            partition by kpi_id, checkpoint_year order by requirement_kind = 'target' desc, year desc
        ) = 1
),

warned as (
    select
        w.*,
        e.early_warning_year,
        e.early_warning_through_month,
        e.early_warning_level,
        e.early_warning_projected_value,
        e.early_warning_reason_zh,
        e.early_warning_reason_en
    from worded as w
    left join early_warnings as e on w.kpi_id = e.kpi_id and w.checkpoint_year = e.checkpoint_year
),

computed as (
    select
        kpi_id,
        name_zh,
        name_en,
        checkpoint_year,
        target_value,
        qualifier,
        unit,
        band as target_band,
        latest_year,
        latest_value,
        base_year,
        base_value,
        path_kind,
        required_path,
        round(expected_value, digits) as expected_value,
        round(latest_value - expected_value, digits) as path_gap,
        projection_method,
        trend_points,
        round(slope_per_year, 4) as slope_per_year,
        round(projected_value, digits) as projected_value,
        round(projected_value - target_value, digits) as gap,
        status,
        performance_status,
        status_reason_zh || ' / ' || status_reason_en as status_reason,
        status_reason_zh,
        status_reason_en,
        is_pageable,
        latest_year < checkpoint_year and latest_meets as is_met_early,
        has_failed_source,
        has_late_data,
        stale_datasets,
        section as plan_section,
        position as catalogue_position,
        early_warning_year,
        early_warning_through_month,
        early_warning_level,
        early_warning_projected_value,
        early_warning_reason_zh,
        early_warning_reason_en
    from warned
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by catalogue_position, checkpoint_year
