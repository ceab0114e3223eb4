{{ config(materialized='view') }}

with yearly as (
    select * from {{ ref('mart_waste__municipal_yearly') }}
),

-- which 资源化利用 the city counts: kpis.yml `definition.choice` (recycling_plus_incineration when
-- the catalogue names none, as the Mianyang ledger's footnote does)
definition as (
    select coalesce(any_value(definition_choice), 'recycling_plus_incineration') as choice
    from {{ source('config', 'kpis') }}
    where kpi_id = 'domestic_waste_recycling_share'
),

final as (
    select
        'domestic_waste_recycling_share' as kpi_id,
        y.year,
        round(if(d.choice = 'recycling_only', y.recycling_only_pct, y.resource_recovery_pct), 2) as value
    from yearly y
    cross join definition d
    where y.months_reported = 12
)

select * from final
