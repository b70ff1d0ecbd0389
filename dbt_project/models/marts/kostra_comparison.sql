{#-
    The KOSTRA key figures, long: every key figure x year x comparison region, with an index where the ASSS
    average without Oslo is 100, for every ASSS member alike (the home member is only marked).

    The group rows are made as SSB makes its KOSTRA groups and KS the ASSS figures (int_kostra__group_figures):
    SSB's own figure where SSB publishes a region with exactly the group's members that year (ASSS without Oslo
    = EKG12 since the 2020 grouping), otherwise sum(A)/sum(B) over the members valid that year, an unweighted
    mean only where no denominator is known; `group_method` says which and `group_members` whom it covers.
    Groups: ASSS_UTEN_OSLO (the index base, as the Handlingsprogram compares), ASSS, KS_STORBY and any group
    the home member defines (seed peer_groups). The KOSTRA groups the members belong to that year (KLASS 112)
    and the country figures are SSB's own. A key figure no public source showed a table for keeps one row per
    year for every member with status source_unknown (or not_ssb) and the reason.
-#}
with

key_figures as (

    select * from {{ ref('kostra_key_figures') }}

),

members as (

    -- Everyone who has been an ASSS member (seed peer_groups): each is shown in every year.
    select distinct municipality_code as region_code
    from {{ ref('int_peer_groups__members_by_year') }}
    where peer_group = 'ASSS'

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
        source_updated,
        'kostra_series' as figure_source
    from {{ ref('int_ssb__measures_harmonised') }}
    where measure like 'kostra:%'
    union all by name
    -- Key figures with no SSB series of their own, computed as KS does from A and B (route asss_formula).
    select
        key_figure_id,
        municipality_code as region_code,
        year,
        value,
        case when value is null then '..' end as status_symbol,
        false as is_series_break,
        'A/B etter KS'' formel (int_kostra__key_figure_parts)' as note,
        case when fetch_origin = 'live' then 'live' else 'snapshot' end as fetch_origin,
        cast(null as varchar) as vintage,
        cast(null as timestamp) as source_updated,
        figure_source
    from {{ ref('int_kostra__member_figures') }}
    where figure_source = 'asss_formula'

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
    where municipality_code in (select region_code from members)

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
    where region_code in ('EAK', 'EAKUO')
    or region_code in (select region_code from members)
    or exists (select 1 from member_groups as g where g.group_code = measures.region_code and g.year = measures.year)

),

groups as (

    -- The peer groups' figures (int_kostra__group_figures): ASSS without Oslo, ASSS, KS storbynettverk and the
    -- groups the home member defines.
    select
        figures.key_figure_id,
        case figures.peer_group when 'ASSS' then 'ASSS' else figures.peer_group end as region_code,
        figures.year,
        figures.value,
        case when figures.value is null then '..' end as status_symbol,
        false as is_series_break,
        figures.method_note || ' (' || figures.member_count || ' medlemmer: ' || figures.members || ')' as note,
        case when figures.is_live then 'live' else 'snapshot' end as fetch_origin,
        cast(null as varchar) as vintage,
        cast(null as timestamp) as source_updated,
        case figures.peer_group
            when 'ASSS_UTEN_OSLO' then 'asss_average'
            when 'ASSS' then 'asss_average_with_oslo'
            else 'peer_group'
        end as region_kind,
        figures.peer_group_name,
        figures.method as group_method,
        figures.members as group_members,
        figures.member_count as group_member_count
    from {{ ref('int_kostra__group_figures') }} as figures
    where figures.peer_group in ('ASSS_UTEN_OSLO', 'ASSS', 'KS_STORBY')
        or figures.peer_group in (
            select peer_group from {{ ref('peer_groups') }}
            where cast(defined_by as varchar) = '{{ var("home_municipality") }}'
        )

),

combined as (

    select * from regions
    union all by name
    select * from groups

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
    cross join members as member_codes
    where key_figures.route <> 'table'
        and not exists (
            select 1 from measures
            where measures.key_figure_id = key_figures.key_figure_id
                and measures.region_code = member_codes.region_code
                and measures.year = years.year
        )

),

without_vintage as (

    -- Key figures whose SSB table failed before any vintage of it was loaded (int_source_failures): a row for
    -- every region the other key figures have that year (members, peer groups, SSB's groups, the country), status
    -- source_error, the failure and what to do in note, so no row of the comparison is silently missing.
    select
        key_figures.key_figure_id,
        slots.region_code,
        slots.year,
        cast(null as double) as value,
        cast(null as varchar) as status_symbol,
        false as is_series_break,
        failures.failure_note as note,
        cast(null as varchar) as fetch_origin,
        cast(null as varchar) as vintage,
        cast(null as timestamp) as source_updated,
        slots.region_kind,
        slots.peer_group_name,
        true as is_source_error
    from key_figures
    inner join {{ ref('int_source_failures') }} as failures
        on failures.source = 'SSB' and failures.source_table = key_figures.source_table
    cross join (
        select distinct regions_that_year.region_code, regions_that_year.region_kind,
            regions_that_year.peer_group_name, regions_that_year.year
        from combined as regions_that_year
        union
        select members.region_code, 'municipality', null, years.year
        from members cross join (select distinct year from measures) as years
    ) as slots
    anti join combined
        on combined.key_figure_id = key_figures.key_figure_id
        and combined.region_code = slots.region_code
        and combined.year = slots.year
    where key_figures.route = 'table'

),

final as (

    select
        key_figures.key_figure_id,
        key_figures.service_area,
        key_figures.section,
        key_figures.display_order,
        key_figures.key_figure_name,
        {{ kostra_unit('key_figures.key_figure_name', 'key_figures.unit') }} as unit,
        combined.year,
        combined.region_code,
        case combined.region_code
            when 'ASSS_UTEN_OSLO' then 'ASSS-snitt uten Oslo'
            when 'ASSS' then 'ASSS-snitt'
            else coalesce(combined.peer_group_name, names.region_name, combined.region_code)
        end as region_name,
        combined.region_kind,
        combined.region_code = '{{ var("home_municipality") }}' as is_home_municipality,
        combined.value,
        round(combined.value, key_figures.decimals) as value_rounded,
        case
            when combined.is_source_error then 'source_error'
            when combined.value is not null then 'measured'
            when key_figures.route = 'source unknown' then 'source_unknown'
            when key_figures.route = 'asss_formula' then 'not_computed'
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
            -- A figure computed from the base tables' replayed (illustrative) parts is not the printed one.
            when combined.figure_source = 'asss_formula' then 'illustrative'
            when published.key_figure_id is not null then 'published'
            else 'illustrative'
        end as origin,
        combined.group_method,
        combined.group_members,
        combined.group_member_count,
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
    left join groups as asss
        on asss.key_figure_id = combined.key_figure_id
        and asss.year = combined.year
        and asss.region_code = 'ASSS_UTEN_OSLO'

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
