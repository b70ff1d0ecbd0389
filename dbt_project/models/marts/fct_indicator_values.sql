{#-
    The SSB-sourced indicators of Asker's Handlingsprogram for the 12 ASSS municipalities (today's
    codes) and SSB's aggregates, one row per indicator x municipality x year.
-#}
with

computed as (

    select * from {{ ref('int_indicator_values_computed') }}

),

routes as (

    select * from {{ ref('ssb_indicator_routes') }}

),

names as (

    -- Today's name of each code, from the latest labels SSB gave it.
    select category_code as municipality_code, max(category_label) as municipality_name
    from {{ ref('stg_ssb__categories') }}
    where dimension_code in ('KOKkommuneregion0000', 'Region', 'Gjerningssted')
        and vintage = (select max(vintage) from {{ ref('stg_ssb__categories') }} as c2
                       where c2.table_id = stg_ssb__categories.table_id)
    group by category_code

),

final as (

    select
        computed.indicator_id,
        computed.municipality_code,
        names.municipality_name,
        computed.year,
        computed.is_aggregate,
        computed.value,
        round(computed.value, routes.decimals) as value_rounded,
        routes.unit,
        computed.status,
        computed.status_symbol,
        computed.is_series_break,
        computed.note,
        'SSB' as source,
        routes.source_table,
        computed.source_updated,
        computed.vintage,
        computed.fetched_at
    from computed
    inner join routes using (indicator_id)
    left join names using (municipality_code)
    where computed.year >= {{ var('first_year') }}
        and computed.municipality_code in (
            {%- for code in var('asss_municipalities') + var('aggregate_regions') %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
        )

)

select * from final
