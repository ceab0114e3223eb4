{{ config(materialized='view') }}

-- Every KPI view's yearly value in one shape: add a view here when a KPI gets one.
with series as (
    select kpi_id, year, value from {{ ref('kpi_energy__nonfossil_energy_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_power__clean_power_capacity') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_economy__energy_intensity_change') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_energy__raw_coal_consumption') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_forestry__forest_coverage') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_forestry__forest_stock_volume') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_waste__industrial_solid_waste_utilization_rate') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_waste__hazardous_waste_utilization_rate') }}
),

final as (
    select kpi_id, cast(year as integer) as year, cast(value as double) as value
    from series
    where value is not null
)

select * from final
