{{ config(materialized='view') }}

-- Every KPI view's yearly value in one shape: add a view here when a KPI gets one.
with series as (
    select kpi_id, year, value from {{ ref('kpi_buildings__construction_waste_recycling_rate') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_buildings__green_building_standard_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_buildings__large_new_building_one_star_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_buildings__new_building_72pct_standard_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_buildings__prefab_building_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_buildings__public_building_energy_monitoring_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_buildings__star_green_building_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_economy__energy_intensity_change') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_emissions__carbon_intensity_change_2005') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_emissions__carbon_intensity_change_2020') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_emissions__carbon_peak') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_energy__nonfossil_energy_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_energy__raw_coal_consumption') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_forestry__forest_coverage') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_forestry__forest_stock_volume') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_industry__cement_benchmark_capacity_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_industry__cement_clinker_energy_change') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_power__clean_power_capacity') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_public_institutions__public_inst_carbon_per_area') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_public_institutions__public_inst_energy_per_area') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_public_institutions__public_inst_energy_per_capita') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_transport__airport_electric_equipment_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_transport__green_travel_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_transport__highway_service_area_charging_coverage') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_transport__new_clean_vehicle_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_transport__passenger_hub_charging_coverage') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_transport__public_charger_ev_ratio') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_transport__transport_carbon_intensity_change') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_waste__domestic_waste_recycling_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_waste__hazardous_waste_utilization_rate') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_waste__industrial_solid_waste_utilization_rate') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_waste__park_circular_transformation_share') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_waste__sludge_safe_disposal_rate') }}
    union all
    select kpi_id, year, value from {{ ref('kpi_waste__waste_sorting_coverage') }}
),

final as (
    select kpi_id, cast(year as integer) as year, cast(value as double) as value
    from series
    where value is not null
)

select * from final
