{#- dbt_utils.unique_combination_of_columns, shipped here because dbt_utils cannot be installed
    offline (no `dbt deps`). The same check as our runner's unique_combination: every combination
    of the columns appears once. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set columns_csv = combination_of_columns | join(', ') %}
select {{ columns_csv }}, count(*) as n_rows
from {{ model }}
group by {{ columns_csv }}
having count(*) > 1
{% endtest %}
