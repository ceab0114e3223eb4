{{ config(materialized='table') }}

-- Metered public-institution energy per m² against the yearly statistics, one row per year with
-- meter data. Method and its limits: meta.method in the .yml beside this file.
with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

daily as (
    select * exclude (city_code) from {{ ref('mart_buildings__energy_daily') }}
),

statistics as (
    select
        year,
        energy_kgce_per_m2 as statistics_kgce_per_m2
    from {{ ref('mart_public_institutions__energy_yearly') }}
),

public_days as (
    select
        building_id,
        energy_date,
        floor_area_m2,
        energy_kgce,
        cast(year(energy_date) as integer) as year
    from daily
    where is_public_institution
),

building_years as (
    select
        building_id,
        year,
        any_value(floor_area_m2) as floor_area_m2,
        sum(energy_kgce) as energy_kgce,
        -- data on 1 January and on 31 December: a gap in between loses no energy (it lands on the
        -- day readings resume), a building that joined or left during the year misses some
        min(energy_date) = make_date(year, 1, 1)
        and max(energy_date) = make_date(year, 12, 31) as is_full_year
    from public_days
    group by building_id, year
),

coverage as (
    select
        year,
        count(distinct month(energy_date)) as months_covered,
        count(distinct energy_date) as days_measured
    from public_days
    group by year
),

years as (
    select
        year,
        count(*) as buildings_metered,
        count(*) filter (where is_full_year) as buildings_full_year,
        sum(floor_area_m2) as all_floor_area_m2,
        sum(energy_kgce) as all_energy_kgce,
        sum(floor_area_m2) filter (where is_full_year) as full_year_floor_area_m2,
        sum(energy_kgce) filter (where is_full_year) as full_year_energy_kgce
    from building_years
    group by year
),

measured as (
    select
        y.year,
        y.buildings_metered,
        y.buildings_full_year,
        c.months_covered,
        c.days_measured,
        y.buildings_full_year > 0 as is_full_year,
        -- a complete year counts only the buildings metered all of it; a year under way counts
        -- every building for the months so far (not annualised)
        case when y.buildings_full_year > 0 then y.full_year_floor_area_m2 else y.all_floor_area_m2 end
            as floor_area_m2,
        case when y.buildings_full_year > 0 then y.full_year_energy_kgce else y.all_energy_kgce end
            as energy_kgce
    from years as y
    inner join coverage as c on y.year = c.year
),

compared as (
    select
        m.*,
        m.energy_kgce / m.floor_area_m2 as metered_kgce_per_m2,
        s.statistics_kgce_per_m2,
        m.is_full_year and s.statistics_kgce_per_m2 is not null as is_comparable
    from measured as m
    left join statistics as s on m.year = s.year
),

gaps as (
    select
        *,
        -- only a whole year against its statistic: part of a year against a year is no gap
        case when is_comparable then (metered_kgce_per_m2 / statistics_kgce_per_m2 - 1) * 100 end
            as gap_pct
    from compared
),

-- the pieces of the two sentences, numbers as the reason prints them
words as (
    select
        *,
        printf('%.2f', metered_kgce_per_m2) as metered_text,
        printf('%.2f', statistics_kgce_per_m2) as statistics_text,
        printf('%.1f', abs(gap_pct)) as gap_text,
        buildings_full_year || if(buildings_full_year = 1, ' building', ' buildings') as buildings_en,
        months_covered || if(months_covered = 1, ' month', ' months') as months_en,
        days_measured || if(days_measured = 1, ' day', ' days') as days_en,
        buildings_metered - buildings_full_year as buildings_part_year
    from gaps
),

computed as (
    select
        year,
        buildings_metered,
        buildings_full_year,
        months_covered,
        days_measured,
        floor_area_m2,
        energy_kgce,
        metered_kgce_per_m2,
        statistics_kgce_per_m2,
        gap_pct,
        is_full_year,
        is_comparable,
        year || '年'
        || case
            when not is_full_year and statistics_kgce_per_m2 is null
                then '仅有' || months_covered || '个月的计量数据（' || days_measured || '天），年度统计尚未发布，暂不可比'
            when not is_full_year
                then '仅有' || months_covered || '个月的计量数据（' || days_measured || '天），不足全年，暂不可比'
            when not is_comparable
                then '计量全年（' || buildings_full_year || '栋建筑，' || metered_text
                    || '千克标准煤/平方米），年度统计尚未发布，暂不可比'
            when gap_text = '0.0'
                then '计量值' || metered_text || '千克标准煤/平方米（' || buildings_full_year || '栋建筑），与年度统计'
                    || statistics_text || '千克标准煤/平方米一致'
            else '计量值' || metered_text || '千克标准煤/平方米（' || buildings_full_year || '栋建筑），比年度统计'
                || statistics_text || '千克标准煤/平方米' || if(gap_pct > 0, '高', '低') || gap_text || '%'
        end
        || if(
            is_full_year and buildings_part_year > 0,
            '；另有' || buildings_part_year || '栋未计量全年，未计入', ''
        ) as reconciliation_reason_zh,
        year || ': '
        || case
            when not is_full_year and statistics_kgce_per_m2 is null
                then months_en || ' metered (' || days_en || '), no yearly statistic yet: not comparable'
            when not is_full_year
                then months_en || ' metered (' || days_en || '), not a full year: not comparable'
            when not is_comparable
                then 'full year metered (' || buildings_en || ', ' || metered_text
                    || ' kgce/m²), no yearly statistic yet: not comparable'
            when gap_text = '0.0'
                then 'metered ' || metered_text || ' kgce/m² (' || buildings_en
                    || ') matches the yearly statistic of ' || statistics_text || ' kgce/m²'
            else 'metered ' || metered_text || ' kgce/m² (' || buildings_en || ') is ' || gap_text || ' % '
                || if(gap_pct > 0, 'above', 'below')
                || ' the yearly statistic of '
                || statistics_text
                || ' kgce/m²'
        end
        || if(
            is_full_year and buildings_part_year > 0,
            '; ' || buildings_part_year || if(buildings_part_year = 1, ' building', ' buildings')
            || ' metered for part of the year left out', ''
        ) as reconciliation_reason_en
    from words
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
