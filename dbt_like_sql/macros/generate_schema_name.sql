{#- The layer folder is the schema (staging, marts, kpi), as in warehouse/models.py; dbt's default
    would prefix the target's schema. Anything outside a layer folder keeps dbt's default. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set folder = node.fqn[1] if node.resource_type == 'model' and node.fqn | length > 2 else none -%}
    {%- if folder in ['staging', 'marts', 'kpi'] -%}
        {{ folder }}
    {%- elif custom_schema_name is not none -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ target.schema }}
    {%- endif -%}
{%- endmacro %}
