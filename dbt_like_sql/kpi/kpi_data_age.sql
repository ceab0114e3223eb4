{{ config(materialized='view') }}

-- How old each dataset's data is on the run's as-of date, judged at every build: a department
-- that stops publishing sends no batch, so only its age can tell. A period (a year, a month or,
-- for day files, a day: the dataset's grain) is due publication_lag_days after it ends. A
-- dataset is late when the period after the latest one it holds is past due; its KPIs then
-- read as stale (kpi_status).
-- A dataset with no period columns, or nothing loaded yet, is not judged (its KPIs show
-- insufficient_data instead). In a backfill, data_through cuts what was held.

with context as (
    select
        coalesce(max(as_of), current_date) as as_of,
        max(data_through) as data_through
    from {{ source('config', 'run_context') }}
),

held as (
    select
        d.dataset,
        d.department,
        d.department_zh,
        d.cadence,
        d.grain,
        d.publication_lag_days,
        c.as_of,
        case
            when c.data_through is null or d.latest_period_end <= c.data_through then d.latest_period_end
            when d.grain = 'month' then last_day(c.data_through)
            when d.grain = 'day' then c.data_through
            else make_date(year(c.data_through), 12, 31)
        end as held_end,
        -- the latest period end that is due by now: as_of - lag, back to a period's end
        cast(date_trunc(
            d.grain,
            c.as_of - to_days(d.publication_lag_days) + interval 1 day
        )
        - interval 1 day as date) as due_end
    from {{ source('config', 'datasets') }} as d
    cross join context as c
    where d.grain is not null and d.latest_period_end is not null
),

judged as (
    select
        *,
        case grain when 'month' then 7 when 'day' then 10 else 4 end as period_length,  -- of YYYY-MM-DD
        cast(
            case grain
                when 'month' then last_day(held_end + interval 1 month)
                when 'day' then held_end + interval 1 day
                else held_end + interval 1 year
            end as date
        ) as next_end,
        datediff(grain, held_end, due_end) as periods_overdue
    from held
),

labelled as (
    select
        *,
        cast(next_end + to_days(publication_lag_days) as date) as next_due,
        left(strftime(held_end, '%Y-%m-%d'), period_length) as latest_period,
        left(strftime(next_end, '%Y-%m-%d'), period_length) as next_period,
        left(strftime(due_end, '%Y-%m-%d'), period_length) as due_period,
        cast(due_end + to_days(publication_lag_days) as date) as due_period_due,
        case grain when 'month' then '月度' when 'day' then '逐日' else '年度' end as grain_zh,
        if(grain = 'year', '年', '') as period_zh,
        case grain when 'month' then 'monthly' when 'day' then 'daily' else 'yearly' end as grain_en
    from judged
)

select
    dataset,
    department,
    department_zh,
    cadence,
    grain,
    publication_lag_days,
    as_of,
    latest_period,
    held_end as latest_period_end,
    next_period,
    next_due,
    due_period,
    greatest(periods_overdue, 0) as periods_overdue,
    periods_overdue > 0 as is_late,
    if(
        periods_overdue > 0,
        format(
            '{}的{}数据自{}以来没有更新：{}数据应在期末后{}天内发布，{}数据应于{}前发布{}（截至{}）',
            coalesce(department_zh || '（' || department || '）', department), dataset,
            latest_period || period_zh, grain_zh, publication_lag_days, next_period || period_zh,
            next_due,
            if(
                periods_overdue > 1,
                format('，{}数据应于{}前发布', due_period || period_zh, due_period_due), ''
            ),
            as_of
        ),
        null
    ) as age_reason_zh,
    if(
        periods_overdue > 0,
        format(
            'no new data from {} ({}) since {}: {} periods are due {} days after they end, so {} '
            'was due by {}{} (as of {})',
            department, dataset, latest_period, grain_en, publication_lag_days, next_period,
            next_due, if(periods_overdue > 1, format(' and {} by {}', due_period, due_period_due), ''),
            as_of
        ),
        null
    ) as age_reason_en
from labelled
