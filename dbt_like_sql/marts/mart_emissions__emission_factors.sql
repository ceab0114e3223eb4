{{ config(materialized='table') }}

-- CO₂ emission factors, versioned: a revised value is a new row (version + 1) and the old row
-- stays with is_current = false, so an inventory can be recomputed with the factors of its day.
-- The inventory uses the rows with is_current; the other sets are there for sensitivity checks.
-- Fuels are converted to energy with the standard-coal definition of GB/T 2589
-- (1 kgce = 29,307.6 kJ), because the energy balance gives every fuel in tce.

with city as (
    -- the city the warehouse is about (config.city): a province unions its cities' marts on it
    select city_code from {{ source('config', 'city') }}
),

combustion (
    factor_id, factor_set, version, is_current, fuel_code, carbon_t_per_tj,
    oxidation_fraction, valid_from_year, valid_to_year, is_assumption, source
) as (
    values
    -- IPCC 2006 Tier 1: Table 1.3 default carbon content, Table 1.4 default oxidation (1.0)
    (
        'ipcc2006_tier1.raw_coal.v1', 'ipcc2006_tier1', 1, true, 'raw_coal', 25.8, 1.0, 2005, null, true,
        '2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 2 Ch. 1, Tables 1.3/1.4: '
        || 'Other Bituminous Coal, 25.8 tC/TJ (94,600 kgCO2/TJ), oxidation 1. Assumption: 原煤 is '
        || 'counted as other bituminous coal (no coal-rank split is published).'
    ),
    (
        'ipcc2006_tier1.coke.v1', 'ipcc2006_tier1', 1, true, 'coke', 29.2, 1.0, 2005, null, false,
        '2006 IPCC Guidelines, Vol. 2 Ch. 1, Tables 1.3/1.4: Coke Oven Coke and Lignite Coke, '
        || '29.2 tC/TJ (107,000 kgCO2/TJ), oxidation 1.'
    ),
    (
        'ipcc2006_tier1.gasoline.v1', 'ipcc2006_tier1', 1, true, 'gasoline', 18.9, 1.0, 2005, null, false,
        '2006 IPCC Guidelines, Vol. 2 Ch. 1, Tables 1.3/1.4: Motor Gasoline, 18.9 tC/TJ '
        || '(69,300 kgCO2/TJ), oxidation 1.'
    ),
    (
        'ipcc2006_tier1.diesel.v1', 'ipcc2006_tier1', 1, true, 'diesel', 20.2, 1.0, 2005, null, false,
        '2006 IPCC Guidelines, Vol. 2 Ch. 1, Tables 1.3/1.4: Gas/Diesel Oil, 20.2 tC/TJ '
        || '(74,100 kgCO2/TJ), oxidation 1.'
    ),
    (
        'ipcc2006_tier1.natural_gas.v1', 'ipcc2006_tier1', 1, true, 'natural_gas', 15.3, 1.0, 2005, null,
        false,
        '2006 IPCC Guidelines, Vol. 2 Ch. 1, Tables 1.3/1.4: Natural Gas, 15.3 tC/TJ '
        || '(56,100 kgCO2/TJ), oxidation 1.'
    ),
    -- the same carbon contents with the incomplete-oxidation defaults of Chinese accounting
    -- guidance (the convention of mart_transport__carbon_intensity_yearly); not used by default
    (
        'cn_oxidation.raw_coal.v1', 'cn_oxidation', 1, false, 'raw_coal', 25.8, 0.93, 2005, null, true,
        'Carbon content as ipcc2006_tier1; oxidation 93 % for bituminous coal as coded from Chinese '
        || 'enterprise-accounting defaults (secondary source, standard not identified: verify against '
        || 'GB/T 32151 or 省级温室气体清单编制指南 before use).'
    ),
    (
        'cn_oxidation.coke.v1', 'cn_oxidation', 1, false, 'coke', 29.2, 0.93, 2005, null, true,
        'Carbon content as ipcc2006_tier1; oxidation 93 % for coke (same secondary source as raw_coal).'
    ),
    (
        'cn_oxidation.gasoline.v1', 'cn_oxidation', 1, false, 'gasoline', 18.9, 0.98, 2005, null, true,
        'Carbon content as ipcc2006_tier1; oxidation 98 % for liquid fuels (same secondary source).'
    ),
    (
        'cn_oxidation.diesel.v1', 'cn_oxidation', 1, false, 'diesel', 20.2, 0.98, 2005, null, true,
        'Carbon content as ipcc2006_tier1; oxidation 98 % for liquid fuels (same secondary source).'
    ),
    (
        'cn_oxidation.natural_gas.v1', 'cn_oxidation', 1, false, 'natural_gas', 15.3, 0.99, 2005, null,
        true,
        'Carbon content 15.3 tC/TJ and oxidation 99 % as coded from GB/T 32151 (secondary source: '
        || 'verify against the standard).'
    )
),

grid (
    factor_id, factor_set, version, is_current, valid_from_year, valid_to_year, tco2_per_mwh,
    is_assumption, source
) as (
    values
    -- national average: the only published value the project has is 2021's; it is held for every
    -- other year, so the intensity change measures the city, not the changing national grid
    (
        'grid_national.2005_2020.v1', 'grid_national', 1, true, 2005, 2020, 0.5568, true,
        'Assumption: the 2021 national average (below) held for 2005-2020; no earlier value in the '
        || 'project''s sources.'
    ),
    (
        'grid_national.2021.v1', 'grid_national', 1, true, 2021, 2021, 0.5568, false,
        '生态环境部/国家统计局 公告 2024-04-12, 2021年全国电力平均二氧化碳排放因子 0.5568 tCO2/MWh '
        || '(as reported at https://www.szcbn.com/newsinfo/7157203.html).'
    ),
    (
        'grid_national.2022_on.v1', 'grid_national', 1, true, 2022, null, 0.5568, true,
        'Assumption: the 2021 national average held from 2022 on; the 2022 national value was not found '
        || 'in the project''s sources.'
    ),
    -- provincial and regional factors: secondary source only, for sensitivity checks
    (
        'grid_sichuan.2021.v1', 'grid_sichuan', 1, false, 2021, 2021, 0.1255, true,
        'Sichuan provincial grid factor 2021, from a code file reproducing the MEE tables (secondary, '
        || 'repository not identified: verify against the MEE annex).'
    ),
    (
        'grid_sichuan.2022.v1', 'grid_sichuan', 1, false, 2022, 2022, 0.1404, true,
        'Sichuan provincial grid factor 2022, same secondary source as 2021.'
    ),
    (
        'grid_southwest.2021.v1', 'grid_southwest', 1, false, 2021, 2021, 0.2113, true,
        '西南 regional grid factor 2021 (0.0002113 t/kWh), same secondary source as grid_sichuan.'
    ),
    (
        'grid_southwest.2022.v1', 'grid_southwest', 1, false, 2022, 2022, 0.2268, true,
        '西南 regional grid factor 2022, same secondary source as grid_sichuan.'
    )
),

computed as (
    select
        factor_id,
        factor_set,
        version,
        is_current,
        'fuel_combustion' as factor_kind,
        fuel_code,
        valid_from_year,
        valid_to_year,
        carbon_t_per_tj,
        oxidation_fraction,
        -- TJ per tce (GB/T 2589) × tC/TJ × oxidation × 44/12 = tCO₂ per tce
        0.0293076 * carbon_t_per_tj * oxidation_fraction * 44 / 12 as tco2_per_tce,
        cast(null as double) as tco2_per_mwh,
        is_assumption,
        source
    from combustion

    union all

    select
        factor_id,
        factor_set,
        version,
        is_current,
        'grid_electricity' as factor_kind,
        'net_imported_electricity' as fuel_code,
        valid_from_year,
        valid_to_year,
        null as carbon_t_per_tj,
        null as oxidation_fraction,
        null as tco2_per_tce,
        tco2_per_mwh,
        is_assumption,
        source
    from grid
),

final as (
    select
        (select city.city_code from city) as city_code,
        computed.*
    from computed
)

select * from final
order by factor_kind, factor_set, fuel_code, valid_from_year
