{#-
    The Handlingsprogram's KOSTRA tables, long: every key figure x year x comparison region, with an
    index where the ASSS average is 100. The ASSS average is ours: the unweighted mean over the 11
    ASSS members without Oslo (fixed membership, today's codes, all years), computed only when all 11
    have a figure. The KOSTRA groups (those the ASSS members belong to that year, from KLASS 112) and the
    country figures are SSB's own (weighted, imputed). A key figure no public source showed a table for keeps
    one row per year for the home municipality with status source_unknown (or not_ssb) and the reason.
-#}
{%- set asss_without_oslo = var('asss_municipalities') | reject('equalto', '0301') | list -%}

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
        {%- for code in var('asss_municipalities') + ['EAK', 'EAKUO'] %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )
    or exists (select 1 from member_groups as g where g.group_code = measures.region_code and g.year = measures.year)

),

asss_average as (

    select
        key_figure_id,
        'ASSS_UTEN_OSLO' as region_code,
        year,
        case when count(value) = {{ asss_without_oslo | length }} then list_avg(list(value order by region_code)) end as value,
        case when count(value) < {{ asss_without_oslo | length }} then '..' end as status_symbol,
        bool_or(is_series_break) as is_series_break,
        'unweighted mean of the ' || count(value) || ' of {{ asss_without_oslo | length }} ASSS members without Oslo that have a figure'
            as note,
        case when bool_and(fetch_origin = 'live') then 'live' else 'snapshot' end as fetch_origin,
        max(vintage) as vintage,
        max(source_updated) as source_updated,
        'asss_average' as region_kind
    from regions
    where region_code in (
        {%- for code in asss_without_oslo %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )
    group by key_figure_id, year

),

combined as (

    select * from regions
    union all by name
    select * from asss_average

),

without_table as (

    -- Key figures without a known table: a row per year for the home municipality, so the gap shows.
    select
        key_figures.key_figure_id,
        '{{ var("home_municipality") }}' as region_code,
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
    where key_figures.source_status <> 'mapped'

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
        combined.region_kind,
        combined.region_code = '{{ var("home_municipality") }}' as is_home_municipality,
        combined.value,
        round(combined.value, key_figures.decimals) as value_rounded,
        case
            when key_figures.source_status = 'source unknown' then 'source_unknown'
            when key_figures.source_status = 'not SSB' then 'not_ssb'
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
    from (select * from combined union all by name select * from without_table) as combined
    inner join key_figures using (key_figure_id)
    left join published
        on published.key_figure_id = combined.key_figure_id
        and published.region_code = combined.region_code
        and published.year = combined.year
    left join asss_average as asss
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
