{#- Written by tools/derive.py from src/styringsdata/sources/ssb_tables.yaml: do not edit; edit the YAML and run `make snapshots`.
    Every configured SSB table and its region dimension, in the YAML's order: staging unions these raw
    tables, the marts read municipality names from these dimensions. The var `ssb_tables` (set when
    STYRINGSDATA_SSB_TABLES names some of these tables) keeps only those: a raw table an earlier run
    loaded for a table no longer fetched is not read. -#}
{% macro ssb_configured_tables() %}
    {%- set tables = [
        {'table_id': '12143', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '10824', 'region_variable': 'Region'},
        {'table_id': '01222', 'region_variable': 'Region'},
        {'table_id': '04861', 'region_variable': 'Region'},
        {'table_id': '07984', 'region_variable': 'Region'},
        {'table_id': '13143', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '13144', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '11787', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '08487', 'region_variable': 'Gjerningssted'},
        {'table_id': '05940', 'region_variable': 'Region'},
        {'table_id': '06505', 'region_variable': 'Region'},
        {'table_id': '06194', 'region_variable': 'Region'},
        {'table_id': '10314', 'region_variable': 'Region'},
        {'table_id': '12241', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '06445', 'region_variable': 'Region'},
        {'table_id': '12209', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '13470', 'region_variable': 'Region'},
        {'table_id': '12362', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '13502', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12255', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12134', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12275', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12222', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '11975', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12285', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '11994', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '11995', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12005', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '14019', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12058', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '11816', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '11907', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12842', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12150', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '13526', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12061', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '13135', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12026', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12367', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '12364', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '11805', 'region_variable': 'KOKkommuneregion0000'},
        {'table_id': '11906', 'region_variable': 'KOKkommuneregion0000'}
    ] -%}
    {%- set chosen = var('ssb_tables', none) -%}
    {{ return(tables if chosen is none else tables | selectattr('table_id', 'in', chosen) | list) }}
{% endmacro %}

{% macro ssb_region_variables() %}
    {{ return(ssb_configured_tables() | map(attribute='region_variable') | unique | sort | list) }}
{% endmacro %}
