{#- The date "late" is judged against: var as_of_date (YYYY-MM-DD) or today. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', '') -%} date '{{ var("as_of_date") }}' {%- else -%} current_date {%- endif -%}
{%- endmacro %}
