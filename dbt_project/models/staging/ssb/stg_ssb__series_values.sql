{#-
    Every configured SSB table as one long list of cells. The dimensions besides region and time differ from
    table to table; they are read from the raw table's columns and folded into `series_key` ("Var=code;Var=code",
    variable names in code-point order, as src/styringsdata/sources/ssb.py Series.key), which seed ssb_series maps to measures
    and key figures. The tables and their region dimensions come from src/styringsdata/sources/ssb_tables.yaml through the
    derived macro ssb_configured_tables (tools/derive.py): a table added there needs nothing here.
-#}
{%- set not_series = ['Tid', 'value', 'status', '_vintage', '_source_updated', '_fetched_at', '_landing_path',
                      'period_start', 'period_end', '_origin'] -%}

with

{% for table in ssb_configured_tables() %}
{%- set table_id = table.table_id %}
{%- set region = table.region_variable %}
{%- set relation = source('ssb', 'ssb_' ~ table_id) %}
{#- A table whose source failed before its first vintage loaded has no raw table yet: it adds no cells (its
    figures get status source_error from int_source_failures), and everything else builds. -#}
{%- set loaded = (adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none)
                 if execute else true %}
{%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list if execute and loaded else [] %}
{%- set dims = columns | reject('in', not_series + [region]) | sort(case_sensitive=true) | list %}
cells_{{ table_id }} as (

    {%- if loaded %}
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
    {%- else %}
    -- never loaded: no cells, with the same columns and types
    select
        '{{ table_id }}' as table_id, cast(null as varchar) as region_code, cast(null as varchar) as series_key,
        cast(null as varchar) as period, cast(null as date) as period_start, cast(null as date) as period_end,
        cast(null as bigint) as year, cast(null as double) as value, cast(null as varchar) as status_symbol,
        cast(null as varchar) as fetch_origin, cast(null as varchar) as vintage,
        cast(null as timestamp) as source_updated, cast(null as timestamp) as fetched_at
    where false
    {%- endif %}

),
{% endfor %}

unioned as (

    {% for table in ssb_configured_tables() %}
    select * from cells_{{ table.table_id }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unioned
