{#-
    The KOSTRA key figures, long: every key figure x year x comparison region, with an index where the ASSS
    average is 100, for every ASSS member alike (the home member is only marked). Two ASSS averages are
    ours, unweighted means on today's codes with fixed membership, computed only when every member has a
    figure: ASSS_UTEN_OSLO over the 11 members without Oslo (the index base, as the Handlingsprogram
    compares) and ASSS over all 12. The KOSTRA group and the country figures are SSB's own (weighted,
    imputed).
-#}
{%- set members = var('asss_municipalities') -%}
{%- set asss_without_oslo = members | reject('equalto', '0301') | list -%}

with

key_figures as (

    select * from {{ ref('kostra_key_figures') }}

),

measures as (

    select
        substr(measure, 8) as key_figure_id,
        municipality_code as region_code,
        year,
        value,
        status_symbol,
        is_series_break,
        note,
        table_id as source_table,
        vintage,
        source_updated
    from {{ ref('int_ssb__measures_harmonised') }}
    where measure like 'kostra:%'

),

names as (

    -- Today's name of each code, from the latest labels SSB gave it.
    select category_code as region_code, max(category_label) as region_name
    from {{ ref('stg_ssb__categories') }}
    where dimension_code = 'KOKkommuneregion0000'
        and vintage = (select max(vintage) from {{ ref('stg_ssb__categories') }} as c2
                       where c2.table_id = stg_ssb__categories.table_id)
    group by category_code

),

regions as (

    select
        measures.*,
        case
            when region_code = 'EAK' then 'country'
            when region_code = 'EAKUO' then 'country_without_oslo'
            when region_code like 'EKG%' then 'kostra_group'
            else 'municipality'
        end as region_kind
    from measures
    where region_code in (
        {%- for code in members + ['EAK', 'EAKUO', 'EKG12'] %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )

),

{% for average_code, average_kind, average_members, label in [
    ('ASSS_UTEN_OSLO', 'asss_average', asss_without_oslo, 'ASSS members without Oslo'),
    ('ASSS', 'asss_average_with_oslo', members, 'ASSS members'),
] %}
average_{{ loop.index }} as (

    select
        key_figure_id,
        '{{ average_code }}' as region_code,
        year,
        case when count(value) = {{ average_members | length }} then list_avg(list(value order by region_code)) end
            as value,
        case when count(value) < {{ average_members | length }} then '..' end as status_symbol,
        bool_or(is_series_break) as is_series_break,
        'unweighted mean of the ' || count(value) || ' of {{ average_members | length }} {{ label }} that have a figure'
            as note,
        string_agg(distinct source_table, '+' order by source_table) as source_table,
        max(vintage) as vintage,
        max(source_updated) as source_updated,
        '{{ average_kind }}' as region_kind
    from regions
    where region_code in (
        {%- for code in average_members %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )
    group by key_figure_id, year

),
{% endfor %}

combined as (

    select * from regions
    union all by name
    select * from average_1
    union all by name
    select * from average_2

),

final as (

    select
        key_figures.key_figure_id,
        key_figures.service_area,
        key_figures.section,
        key_figures.display_order,
        key_figures.key_figure_name,
        key_figures.unit,
        combined.year,
        combined.region_code,
        case combined.region_code
            when 'ASSS_UTEN_OSLO' then 'ASSS-snitt uten Oslo'
            when 'ASSS' then 'ASSS-snitt'
            else coalesce(names.region_name, combined.region_code)
        end as region_name,
        combined.region_kind,
        combined.region_code = '{{ var("home_municipality") }}' as is_home_municipality,
        combined.value,
        round(combined.value, key_figures.decimals) as value_rounded,
        case
            when combined.value is not null then 'measured'
            when combined.status_symbol = ':' then 'suppressed'
            else 'not_measured'
        end as status,
        combined.status_symbol,
        round(100 * combined.value / nullif(asss.value, 0), 1) as index_asss_100,
        combined.is_series_break,
        combined.note,
        combined.source_table,
        combined.vintage,
        combined.source_updated
    from combined
    inner join key_figures using (key_figure_id)
    left join names using (region_code)
    left join average_1 as asss
        on asss.key_figure_id = combined.key_figure_id
        and asss.year = combined.year

)

select * from final
