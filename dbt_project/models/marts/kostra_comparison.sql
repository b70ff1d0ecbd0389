{#-
    The KOSTRA key figures, long: every key figure x year x comparison region, with an index where the ASSS
    average is 100, for every ASSS member alike (the home member is only marked). Two ASSS averages are
    ours, unweighted means on today's codes with fixed membership, computed only when every member has a
    figure: ASSS_UTEN_OSLO over the 11 members without Oslo (the index base, as the Handlingsprogram
    compares) and ASSS over all 12. The KOSTRA groups (those the ASSS members belong to that year, from KLASS
    112) and the country figures are SSB's own (weighted, imputed). A key figure no public source showed a
    table for keeps one row per year for every member with status source_unknown (or not_computed, when its route
    is KS's A/B formula on SSB's base tables) and the reason.
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
        fetch_origin,
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

member_groups as (

    -- The KOSTRA groups the ASSS members belong to, per year (KLASS 112).
    select distinct year, group_code
    from {{ ref('int_kostra_groups__membership') }}
    where municipality_code in (
        {%- for code in var('asss_municipalities') %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )

),

published as (

    select figure_id as key_figure_id, region_code, year
    from {{ ref('published_figures') }}
    where figure_kind = 'key_figure'

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
        {%- for code in members + ['EAK', 'EAKUO'] %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )
    or exists (select 1 from member_groups as g where g.group_code = measures.region_code and g.year = measures.year)

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
        case when bool_and(fetch_origin = 'live') then 'live' else 'snapshot' end as fetch_origin,
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

without_table as (

    -- Key figures without a known table: a row per year for every member, so the gap shows whoever is home.
    select
        key_figures.key_figure_id,
        member_codes.region_code,
        years.year,
        cast(null as double) as value,
        cast(null as varchar) as status_symbol,
        false as is_series_break,
        key_figures.source_reason as note,
        cast(null as varchar) as fetch_origin,
        cast(null as varchar) as vintage,
        cast(null as timestamp) as source_updated,
        'municipality' as region_kind
    from key_figures
    cross join (select distinct year from measures) as years
    cross join (select unnest([
        {%- for code in members %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ]) as region_code) as member_codes
    where key_figures.route <> 'table'

),

without_vintage as (

    -- Key figures whose SSB table failed before any vintage of it was loaded (int_source_failures): a row per
    -- year for every member, status source_error, the failure and what to do in note.
    select
        key_figures.key_figure_id,
        member_codes.region_code,
        years.year,
        cast(null as double) as value,
        cast(null as varchar) as status_symbol,
        false as is_series_break,
        failures.failure_note as note,
        cast(null as varchar) as fetch_origin,
        cast(null as varchar) as vintage,
        cast(null as timestamp) as source_updated,
        'municipality' as region_kind,
        true as is_source_error
    from key_figures
    inner join {{ ref('int_source_failures') }} as failures
        on failures.source = 'SSB' and failures.source_table = key_figures.source_table
    cross join (select distinct year from measures) as years
    cross join (select unnest([
        {%- for code in members %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ]) as region_code) as member_codes
    anti join combined
        on combined.key_figure_id = key_figures.key_figure_id
        and combined.region_code = member_codes.region_code
        and combined.year = years.year
    where key_figures.route = 'table'

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
            when key_figures.route = 'source unknown' then 'source_unknown'
            when key_figures.route = 'asss_formula' then 'not_computed'
            when combined.is_source_error then 'source_error'
            when combined.value is not null then 'measured'
            when combined.status_symbol in (':', 'k') then 'suppressed'
            else 'not_measured'
        end as status,
        combined.status_symbol,
        round(100 * combined.value / nullif(asss.value, 0), 1) as index_asss_100,
        combined.is_series_break,
        combined.note,
        key_figures.source_table,
        key_figures.evidence_grade,
        nullif(key_figures.adjustment_in_document, '') as adjustment_in_document,
        case
            when combined.value is null then null
            when combined.fetch_origin = 'live' then 'live'
            when published.key_figure_id is not null then 'published'
            else 'illustrative'
        end as origin,
        combined.vintage,
        combined.source_updated
    from (select * from combined union all by name select * from without_table
          union all by name select * from without_vintage) as combined
    inner join key_figures using (key_figure_id)
    left join published
        on published.key_figure_id = combined.key_figure_id
        and published.region_code = combined.region_code
        and published.year = combined.year
    left join names on names.region_code = combined.region_code
    left join average_1 as asss
        on asss.key_figure_id = combined.key_figure_id
        and asss.year = combined.year

),

-- The ASSS way of comparing (deflated / need-adjusted, as the document marks each row): int_kostra__adjusted_key_figures.
with_adjustments as (

    select
        final.*,
        -- Rows without a figure (no known table) still say how the document adjusts them.
        coalesce(adjusted.adjustment, {{ kostra_adjustment('final.key_figure_name') }}) as adjustment,
        adjusted.price_base_year,
        adjusted.deflated_value,
        adjusted.need_area,
        adjusted.need_index,
        adjusted.need_adjusted_value,
        adjusted.adjusted_value,
        adjusted.adjusted_value_rounded,
        adjusted.adjustment_origin,
        adjusted.adjustment_note
    from final
    left join {{ ref('int_kostra__adjusted_key_figures') }} as adjusted
        on adjusted.key_figure_id = final.key_figure_id
        and adjusted.region_code = final.region_code
        and adjusted.year = final.year

)

select * from with_adjustments
