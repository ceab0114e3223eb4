{{ config(materialized='view') }}

-- 碳达峰: the year total CO₂ peaks, observed or projected, estimated again in every year (`year`)
-- from the inventory up to that year. Needs three years; the method is in the .yml.

with yearly as (
    select
        year,
        total_co2_t
    from {{ ref('mart_emissions__co2_yearly') }}
    where total_co2_t is not null
),

increments as (
    select
        year,
        total_co2_t - lag(total_co2_t) over (order by year) as increment_t,
        year - lag(year) over (order by year) as years_apart
    from yearly
),

as_of as (
    select
        y.year as as_of_year,
        any_value(y.total_co2_t) as total_co2_t,
        count(*) as years_observed,
        max(h.total_co2_t) as peak_co2_t
    from yearly as y
    inner join yearly as h on y.year >= h.year
    group by y.year
),

peaks as (
    -- the latest year at the highest total so far: a plateau counts as not yet past
    select
        a.*,
        max(h.year) as peak_year
    from as_of as a
    inner join yearly as h on a.as_of_year >= h.year and a.peak_co2_t = h.total_co2_t
    group by all
),

-- the yearly increments of the last five years up to each as-of year
window_increments as (
    select
        a.as_of_year,
        i.year,
        i.increment_t
    from as_of as a
    inner join increments as i on i.year between a.as_of_year - 4 and a.as_of_year
    where i.years_apart = 1
),

-- Theil–Sen line through the increments: the median of the pairwise slopes, then the median
-- intercept at the as-of year (the fitted increment of that year)
slopes as (
    select
        p.as_of_year,
        median((q.increment_t - p.increment_t) / (q.year - p.year)) as slope
    from window_increments as p
    inner join window_increments as q on p.as_of_year = q.as_of_year and p.year < q.year
    group by p.as_of_year
),

fitted as (
    select
        w.as_of_year,
        s.slope as increment_trend_t_per_year,
        median(w.increment_t - s.slope * (w.year - w.as_of_year)) as fitted_increment_t
    from window_increments as w
    inner join slopes as s using (as_of_year)
    group by w.as_of_year, s.slope
),

projected as (
    select
        p.*,
        f.increment_trend_t_per_year,
        f.fitted_increment_t,
        -- rising with shrinking increments: the last year whose projected increment is positive
        case
            when f.fitted_increment_t > 0 and f.increment_trend_t_per_year < 0
                and f.fitted_increment_t / -f.increment_trend_t_per_year < 100
                then cast(ceil(f.fitted_increment_t / -f.increment_trend_t_per_year) as integer) - 1
        end as years_to_turn
    from peaks as p
    inner join fitted as f using (as_of_year)
    where p.years_observed >= 3
),

judged as (
    select
        *,
        -- the level at the projected turn: Σ (a + b·k) for k = 1 … years_to_turn
        total_co2_t + years_to_turn * fitted_increment_t
        + increment_trend_t_per_year * years_to_turn * (years_to_turn + 1) / 2 as projected_peak_co2_t
    from projected
),

classified as (
    select
        *,
        case
            -- no longer rising, or rising again but turning below the earlier high
            when fitted_increment_t <= 0 or projected_peak_co2_t < peak_co2_t
                then
                    case
                    -- three years past the high and at least 2 % below it: a peak, not a plateau
                        when as_of_year - peak_year >= 3 and total_co2_t <= 0.98 * peak_co2_t then 'peaked'
                        when as_of_year - peak_year >= 3 then 'plateau'
                        else 'turning'
                    end
            when as_of_year + years_to_turn <= 2060 then 'projected'
            else 'not_before_horizon'
        end as peak_basis
    from judged
),

final as (
    select
        'carbon_peak' as kpi_id,
        as_of_year as year,
        case
            when peak_basis in ('peaked', 'turning') then peak_year
            -- still within 2 % of an older high: the peak is not behind yet, so at least now
            when peak_basis = 'plateau' then as_of_year
            when peak_basis = 'projected' then as_of_year + years_to_turn
            else 2061  -- "after 2060": no downturn before China's carbon-neutrality year
        end as value,
        peak_basis,
        total_co2_t,
        peak_year as highest_year_so_far,
        peak_co2_t as highest_so_far_co2_t,
        round(fitted_increment_t, 3) as fitted_increment_t,
        round(increment_trend_t_per_year, 3) as increment_trend_t_per_year,
        case when peak_basis = 'projected' then round(projected_peak_co2_t, 3) end as projected_peak_co2_t,
        years_observed
    from classified
)

select * from final
order by year
