{#-
    The macro group's calendar (asss-method.md §3; macro analysis_status): the figures of an accounting year
    are published unrevised on 15 March of the next year (preliminary) and revised on 15 June (final). Per
    analysis (tjenesteprofil, resource_use_index, production_index), every input figure it reads whose
    preliminary and final vintages differ, for each ASSS member: the last vintage updated before 15 June
    (preliminary) against the newest one updated on or after it (final). The inputs are SSB's base figures
    (updated: SSB's own time) and the expense-need index file (file contract sources/expense_need_index.py;
    updated: when the file was received), whose index corrects the ressursbruksindikator (and through it the
    tjenesteprofil) and the produksjonsindeks's target groups. The deflator is an input of kostra_comparison's
    adjusted figures only, none of these three analyses reads it. Unlike the revisions mart, which
    compares each vintage with the one before, this compares exactly the two the calendar names, however many
    vintages lie between them. `used_in` names what the figure feeds in that analysis.
-#}
with

ssb_vintages as (

    select
        table_id, measure, region_code, year, vintage, source_updated, value, status_symbol,
        -- as kostra_comparison says it for a figure from the base tables
        case when fetch_origin = 'live' then 'live' else 'illustrative' end as origin
    from {{ ref('int_ssb__measures_all_vintages') }}

),

need_vintages as (

    -- each file is a vintage; within one, the last row for a member, year and area is the one in use
    -- (as int_asss__expense_need_index)
    select
        'expense_need_index' as table_id,
        'need_index_' || need_area as measure,
        municipality_code as region_code,
        year,
        vintage,
        received_at as source_updated,
        arg_max(need_index, file_row) as value,
        cast(null as varchar) as status_symbol,
        -- the file's own word (file contract): illustrative, or published with its citation
        arg_max(origin, file_row) as origin
    from {{ ref('stg_gront_hefte__expense_need_index') }}
    group by municipality_code, year, need_area, vintage, received_at

),

vintages as (

    select * from ssb_vintages
    union all by name
    select * from need_vintages

),

formulas as (

    select
        key_figure_id,
        unnest(string_split(numerator_measures || ';' || denominator_measures, ';')) as measure
    from {{ ref('kostra_key_figure_formulas') }}

),

areas as (

    select
        service_area,
        service_area_name,
        unnest(string_split(net_expense_measures || ';' || depreciation_measures || ';' || population_measure, ';'))
            as measure
    from {{ ref('resource_use_areas') }}
    where net_expense_measures is not null

),

production as (

    select * from {{ ref('production_index_indicators') }}

),

reads as (

    -- which base measure each analysis reads, and for what
    select 'tjenesteprofil' as analysis, indicators.indicator_name as used_in, formulas.measure
    from {{ ref('asss_service_indicators') }} as indicators
    inner join formulas using (key_figure_id)
    where indicators.computation = 'key_figure'

    union all

    select 'tjenesteprofil', indicators.indicator_name, areas.measure
    from {{ ref('asss_service_indicators') }} as indicators
    inner join areas on areas.service_area = indicators.resource_use_area
    where indicators.computation = 'resource_use'

    union all

    select 'resource_use_index', 'Ressursbruksindikator. ' || areas.service_area_name, areas.measure
    from areas

    union all

    -- a sector's weight is its share of the members' spending (mart resource_use_index)
    select 'production_index', 'Sektorvekt. ' || production.sector_name, areas.measure
    from production
    inner join areas on areas.service_area = production.spending_area
    where areas.measure not in (select population_measure from {{ ref('resource_use_areas') }})

    union all

    select 'production_index', production.indicator_name, unnest([production.output_measure, production.target_measure])
    from production
    where production.output_measure is not null

    union all

    -- the expense-need index: what corrects each analysis for the members' need
    select 'resource_use_index', 'Ressursbruksindikator. ' || areas.service_area_name || ' (behovskorrigering)',
        'need_index_' || areas.need_area
    from {{ ref('resource_use_areas') }} as areas
    where areas.net_expense_measures is not null and areas.need_area is not null

    union all

    select 'tjenesteprofil', indicators.indicator_name || ' (behovskorrigering)', 'need_index_' || areas.need_area
    from {{ ref('asss_service_indicators') }} as indicators
    inner join {{ ref('resource_use_areas') }} as areas on areas.service_area = indicators.resource_use_area
    where indicators.computation = 'resource_use' and areas.net_expense_measures is not null
        and areas.need_area is not null

    union all

    select 'production_index', production.indicator_name || ' (behovskorrigert målgruppe)',
        'need_index_' || production.need_area
    from production
    where production.output_measure is not null and production.need_area is not null

),

used as (

    select analysis, measure, string_agg(distinct used_in, '; ' order by used_in) as used_in
    from reads
    group by analysis, measure

),

chosen as (

    -- the two vintages the calendar names, per figure
    select
        table_id,
        measure,
        region_code,
        year,
        max(vintage) filter (
            where cast(source_updated as date) < {{ analysis_release_date('year', 'final') }}
        ) as preliminary_vintage,
        max(vintage) filter (
            where cast(source_updated as date) >= {{ analysis_release_date('year', 'final') }}
        ) as final_vintage
    from vintages
    where measure in (select measure from used)
    group by table_id, measure, region_code, year

),

paired as (

    select
        chosen.table_id,
        chosen.measure,
        chosen.region_code,
        chosen.year,
        chosen.preliminary_vintage,
        preliminary.source_updated as preliminary_updated,
        preliminary.value as preliminary_value,
        preliminary.status_symbol as preliminary_status,
        chosen.final_vintage,
        final.source_updated as final_updated,
        final.value as final_value,
        final.status_symbol as final_status,
        case when 'illustrative' in (preliminary.origin, final.origin) then 'illustrative' else final.origin end
            as origin
    from chosen
    inner join vintages as preliminary
        on preliminary.table_id = chosen.table_id
        and preliminary.measure = chosen.measure
        and preliminary.region_code = chosen.region_code
        and preliminary.year = chosen.year
        and preliminary.vintage = chosen.preliminary_vintage
    inner join vintages as final
        on final.table_id = chosen.table_id
        and final.measure = chosen.measure
        and final.region_code = chosen.region_code
        and final.year = chosen.year
        and final.vintage = chosen.final_vintage

),

todays_codes as (

    -- as in the revisions mart: the member that answers for a figure of an older code
    select region_code, year, arg_max(municipality_code, contributor_count) as municipality_code
    from {{ ref('int_region_codes_harmonised') }}
    group by region_code, year

),

members as (

    select year, municipality_code
    from {{ ref('int_peer_groups__members_by_year') }}
    where peer_group = 'ASSS'

),

labels as (

    select measure, any_value(label) as measure_label
    from {{ ref('ssb_series') }}
    where measure is not null
    group by measure

    union all

    select 'need_index_' || need_area, name
    from {{ ref('expense_need_areas') }}

)

select
    used.analysis,
    coalesce(todays_codes.municipality_code, paired.region_code) as municipality_code,
    cast(paired.year as integer) as year,
    paired.table_id as source_table,
    paired.measure,
    labels.measure_label,
    used.used_in,
    paired.preliminary_vintage,
    paired.preliminary_updated,
    paired.preliminary_value,
    paired.preliminary_status,
    paired.final_vintage,
    paired.final_updated,
    paired.final_value,
    paired.final_status,
    paired.final_value - paired.preliminary_value as difference,
    paired.origin
from paired
inner join used using (measure)
left join todays_codes
    on todays_codes.region_code = paired.region_code
    and todays_codes.year = paired.year
inner join members
    on members.municipality_code = coalesce(todays_codes.municipality_code, paired.region_code)
    and members.year = paired.year
left join labels using (measure)
where paired.preliminary_value is distinct from paired.final_value
    or paired.preliminary_status is distinct from paired.final_status
