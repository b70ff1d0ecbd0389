{#- Rows of the newest vintage only: raw tables keep every vintage, marts show the latest. -#}
{% macro latest_vintage(relation, vintage_column='vintage') -%}
    select * from {{ relation }}
    where {{ vintage_column }} = (select max({{ vintage_column }}) from {{ relation }})
{%- endmacro %}
