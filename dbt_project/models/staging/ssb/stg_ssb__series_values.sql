{#-
    Every configured SSB table as one long list of cells. The dimensions besides region and time differ from
    table to table; they are read from the raw table's columns and folded into `series_key` ("Var=code;Var=code",
    variable names in code-point order, as ingestion/ssb.py Series.key), which seed ssb_series maps to measures
    and key figures. The tables and their region dimensions come from ingestion/ssb_tables.yaml through the
    derived macro ssb_configured_tables (tools/derive.py): a table added there needs nothing here.
-#}
{%- set not_series = ['Tid', 'value', 'status', '_vintage', '_source_updated', '_fetched_at', '_landing_path',
                      'period_start', 'period_end', '_origin'] -%}

with

{% for table in ssb_configured_tables() %}
{%- set table_id = table.table_id %}
{%- set region = table.region_variable %}
{%- set relation = source('ssb', 'ssb_' ~ table_id) %}
{%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list if execute else [] %}
{%- set dims = columns | reject('in', not_series + [region]) | sort(case_sensitive=true) | list %}
cells_{{ table_id }} as (

    select
        '{{ table_id }}' as table_id,
        "{{ region }}" as region_code,
        {% if dims %}concat_ws(';', {% for dim in dims %}'{{ dim }}=' || "{{ dim }}"{% if not loop.last %}, {% endif %}{% endfor %}){% else %}''{% endif %} as series_key,
        "Tid" as period,
        period_start,
        period_end,
        year(period_end) as year,
        value,
        status as status_symbol,
        _origin as fetch_origin,
        _vintage as vintage,
        _source_updated as source_updated,
        _fetched_at as fetched_at
    from {{ relation }}

),
{% endfor %}

unioned as (

    {% for table in ssb_configured_tables() %}
    select * from cells_{{ table.table_id }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unioned
