{#-
    Today's codes of the ASSS members. The list lives in seed peer_groups (membership by year); the pipeline
    passes today's members as the var asss_municipalities (styringsdata.home.dbt_vars). Parsing happens without
    vars, so the list is empty then; a build without the var stops with what to pass.
-#}
{% macro asss_municipalities() %}
    {%- set members = var('asss_municipalities', none) -%}
    {#- sqlfluff's dbt templater passes its context (.sqlfluff) as strings: a JSON list there -#}
    {%- if members is string -%}{%- set members = fromjson(members) -%}{%- endif -%}
    {%- if members is none and execute -%}
        {{ exceptions.raise_compiler_error(
            "var asss_municipalities is not set: the pipeline passes today's ASSS members from seed peer_groups "
            ~ "(styringsdata.home.dbt_vars); by hand: dbt build --vars '{home_municipality: \"3203\", "
            ~ "asss_municipalities: [\"0301\", ...]}'") }}
    {%- endif -%}
    {{ return(members or []) }}
{% endmacro %}
