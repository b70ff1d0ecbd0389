{#-
    The macro group's calendar (ASSS governance document, seed 000 §annual cycle; asss-method.md §3): KOSTRA
    figures for a year are published unrevised on 15 March of the next year (preliminary) and revised on
    15 June (final). An analysis is as final as the newest SSB update of the tables it reads: final once that
    update is on or after 15 June of the year after the accounting year, preliminary before.
-#}
{% macro analysis_release_date(year, status) -%}
    {%- if status == 'final' -%}make_date(cast({{ year }} as integer) + 1, 6, 15)
    {%- else -%}make_date(cast({{ year }} as integer) + 1, 3, 15){%- endif -%}
{%- endmacro %}

{% macro analysis_status(year, source_updated) -%}
    case
        when {{ source_updated }} is null then null
        when cast({{ source_updated }} as date) >= {{ analysis_release_date(year, 'final') }} then 'final'
        else 'preliminary'
    end
{%- endmacro %}
