{#-
    KS's tjenesteprofiler (../shared/reference/asss-method.md §3): per ASSS member, profile (service area),
    indicator and year, the member's value, the index with the ASSS average at 100, and the network's lowest and
    highest value with the members that hold them. The indicators and their types are seed
    asss_service_indicators (KS's area pages); each is computed as KS documents it:

    - key_figure: A / B from SSB's base tables (int_kostra__key_figure_parts, seed kostra_key_figure_formulas);
      the ASSS average is scale x sum(A) / sum(B) over the members valid that year
      (int_peer_groups__members_by_year), computed only when every one of them has both parts;
    - resource_use: KS's ressursbruksindikator (mart resource_use_index), whose ASSS average is
      var resource_use_asss_level by construction;
    - not_computed: the row is there with the reason (no base table we read, or no indicator list), never a
      guessed value.
-#}
{%- set level = var('resource_use_asss_level') -%}

with

indicators as (

    select * from {{ ref('asss_service_indicators') }}

),

members as (

    select year, municipality_code, member_count
    from {{ ref('int_peer_groups__members_by_year') }}
    where peer_group = 'ASSS'

),

parts as (

    select
        parts.municipality_code,
        parts.year,
        parts.key_figure_id,
        parts.numerator,
        parts.denominator,
        parts.scale,
        parts.value,
        parts.unit,
        parts.numerator_table,
        parts.denominator_table,
        parts.fetch_origin
    from {{ ref('int_kostra__key_figure_parts') }} as parts
    inner join members using (municipality_code, year)

),

resource_use as (

    select municipality_code, year, service_area, resource_use_index, analysis_status, note, note_nb, origin
    from {{ ref('resource_use_index') }}

),

years as (

    select distinct year from parts
    union
    select distinct year from resource_use

),

table_updates as (

    -- the newest SSB update of each base table's figures for a year: what says preliminary or final
    select table_id, year, max(source_updated) as source_updated
    from {{ ref('int_ssb__measures_harmonised') }}
    group by table_id, year

),

grid as (

    select members.municipality_code, members.year, members.member_count, indicators.*
    from members
    inner join years using (year)
    cross join indicators

),

member_values as (

    select
        grid.*,
        case grid.computation when 'key_figure' then parts.numerator end as numerator,
        case grid.computation when 'key_figure' then parts.denominator end as denominator,
        parts.scale,
        case grid.computation
            when 'key_figure' then parts.value
            when 'resource_use' then resource_use.resource_use_index
        end as value,
        case grid.computation
            when 'key_figure' then parts.unit
            when 'resource_use' then 'indeks (ASSS = {{ level }})'
        end as unit,
        case grid.computation
            when 'key_figure' then {{ analysis_status('grid.year', 'greatest(numerator_updates.source_updated, denominator_updates.source_updated)') }}
            when 'resource_use' then resource_use.analysis_status
        end as analysis_status,
        case grid.computation
            when 'key_figure' then parts.fetch_origin
            when 'resource_use' then resource_use.origin
        end as input_origin,
        resource_use.note as resource_use_note,
        resource_use.note_nb as resource_use_note_nb
    from grid
    left join parts
        on grid.computation = 'key_figure'
        and parts.key_figure_id = grid.key_figure_id
        and parts.municipality_code = grid.municipality_code
        and parts.year = grid.year
    left join resource_use
        on grid.computation = 'resource_use'
        and resource_use.service_area = grid.resource_use_area
        and resource_use.municipality_code = grid.municipality_code
        and resource_use.year = grid.year
    left join table_updates as numerator_updates
        on numerator_updates.table_id = parts.numerator_table and numerator_updates.year = grid.year
    left join table_updates as denominator_updates
        on denominator_updates.table_id = parts.denominator_table and denominator_updates.year = grid.year

),

network as (

    select
        indicator_id,
        year,
        any_value(member_count) as member_count,
        count(value) as members_with_value,
        count(numerator * denominator) as members_with_parts,
        sum(numerator) as asss_numerator_sum,
        sum(denominator) as asss_denominator_sum,
        any_value(scale) as scale,
        any_value(computation) as computation,
        -- the index and the range are against every member's figure: one illustrative input makes them so
        bool_and(input_origin = 'live') filter (where value is not null) as all_inputs_live,
        min(value) as asss_min,
        max(value) as asss_max
    from member_values
    group by indicator_id, year

),

holders as (

    select
        member_values.indicator_id,
        member_values.year,
        string_agg(member_values.municipality_code, ', ' order by member_values.municipality_code)
            filter (where member_values.value = network.asss_min) as asss_min_members,
        string_agg(member_values.municipality_code, ', ' order by member_values.municipality_code)
            filter (where member_values.value = network.asss_max) as asss_max_members
    from member_values
    inner join network using (indicator_id, year)
    group by member_values.indicator_id, member_values.year

),

averaged as (

    select
        network.*,
        holders.asss_min_members,
        holders.asss_max_members,
        case
            when network.computation = 'key_figure' and network.members_with_parts = network.member_count
                then network.scale * network.asss_numerator_sum / nullif(network.asss_denominator_sum, 0)
            when network.computation = 'resource_use' and network.members_with_value = network.member_count
                then {{ level }}
        end as asss_value
    from network
    inner join holders using (indicator_id, year)

)

select
    member_values.municipality_code,
    member_values.municipality_code = '{{ var("home_municipality") }}' as is_home_municipality,
    member_values.profile,
    member_values.profile_name,
    member_values.sort_order,
    member_values.indicator_id,
    member_values.indicator_name,
    member_values.indicator_type,
    member_values.type_source,
    member_values.computation,
    cast(member_values.year as integer) as year,
    member_values.numerator,
    member_values.denominator,
    member_values.value,
    member_values.unit,
    averaged.asss_numerator_sum,
    averaged.asss_denominator_sum,
    averaged.asss_value,
    100 * member_values.value / nullif(averaged.asss_value, 0) as index_asss_100,
    averaged.asss_min,
    averaged.asss_min_members,
    averaged.asss_max,
    averaged.asss_max_members,
    100 * averaged.asss_min / nullif(averaged.asss_value, 0) as index_min,
    100 * averaged.asss_max / nullif(averaged.asss_value, 0) as index_max,
    averaged.member_count as asss_member_count,
    averaged.members_with_value,
    member_values.value is not null as is_computed,
    -- as kostra_comparison.origin says it for the figures it computes from the base tables
    case
        when member_values.value is null then null
        when member_values.input_origin = 'live' and averaged.all_inputs_live then 'live'
        else 'illustrative'
    end as origin,
    member_values.analysis_status,
    case
        when member_values.computation = 'not_computed' then 'ikke beregnet: ' || member_values.not_computed_reason
        when member_values.computation = 'resource_use' and member_values.value is null
            then coalesce(member_values.resource_use_note, 'no ressursbruksindikator')
        when member_values.value is null then 'no A or B for this member and year in the base tables'
        when averaged.asss_value is null
            then 'no ASSS average: ' || averaged.members_with_value || ' of ' || averaged.member_count
                || ' members have the figure'
    end as note,
    -- the same in Norwegian, for the macro group's report
    case
        when member_values.computation = 'not_computed' then 'ikke beregnet: ' || member_values.not_computed_reason_nb
        when member_values.computation = 'resource_use' and member_values.value is null
            then coalesce(member_values.resource_use_note_nb, 'ingen ressursbruksindikator')
        when member_values.value is null then 'teller eller nevner mangler for kommunen dette året i SSBs tabeller'
        when averaged.asss_value is null
            then 'ikke noe ASSS-snitt: ' || averaged.members_with_value || ' av ' || averaged.member_count
                || ' medlemmer har tallet'
    end as note_nb,
    member_values.cite
from member_values
inner join averaged using (indicator_id, year)
