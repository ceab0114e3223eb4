{{ config(materialized='table') }}

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

domestic as (
    select
        year,
        count(distinct month) as months_reported,
        sum(received_t) as received_t,
        sum(recycled_t) as recycled_t,
        sum(incinerated_t) as incinerated_t,
        -- 资源化利用 is defined differently between departments: both are kept, and the KPI's
        -- `definition.choice` in kpis.yml picks one (kpi_waste__domestic_waste_recycling_share)
        100 * (sum(recycled_t) + sum(incinerated_t)) / nullif(sum(received_t), 0) as resource_recovery_pct,
        100 * sum(recycled_t) / nullif(sum(received_t), 0) as recycling_only_pct
    from {{ ref('stg_city_management__domestic_waste') }}
    group by year
),

sorting as (
    select
        year,
        100.0 * sum(communities_sorting) / nullif(sum(communities_total), 0) as sorting_coverage_pct
    from {{ ref('stg_city_management__waste_sorting') }}
    group by year
),

sludge as (
    select
        year,
        100 * sum(safely_disposed_t) / nullif(sum(sludge_t), 0) as sludge_safe_disposal_pct
    from {{ ref('stg_water__sewage_sludge') }}
    group by year
),

parks as (
    select
        year,
        100.0 * count(*) filter (where is_retrofitted) / nullif(count(*), 0) as park_retrofit_pct
    from {{ ref('stg_development__industrial_parks') }}
    where is_eligible  -- the plan: 具备条件的 parks
    group by year
),

years as (
    select year from domestic
    union
    select year from sorting
    union
    select year from sludge
    union
    select year from parks
),

computed as (
    select
        y.year,
        d.months_reported,
        d.received_t,
        d.resource_recovery_pct,
        d.recycling_only_pct,
        s.sorting_coverage_pct,
        g.sludge_safe_disposal_pct,
        p.park_retrofit_pct
    from years as y
    left join domestic as d using (year)
    left join sorting as s using (year)
    left join sludge as g using (year)
    left join parks as p using (year)
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by year
