{#- Exact row count (the target set has 88 indicators). -#}
{% test dbt_utils_free_row_count(model, expected) %}
    select count(*) as n from {{ model }} having count(*) <> {{ expected }}
{% endtest %}
