{#-
    The macro group's calendar (asss-method.md §3; macro analysis_status): the figures of an accounting year
    are published unrevised on 15 March of the next year (preliminary) and revised on 15 June (final). Per
    analysis (tjenesteprofil, resource_use_index, production_index), every SSB base figure it reads whose
    preliminary and final vintages differ, for each ASSS member: the last vintage SSB updated before 15 June
    (preliminary) against the newest one updated on or after it (final). Unlike the revisions mart, which
    compares each vintage with the one before, this compares exactly the two the calendar names, however many
    vintages lie between them. `used_in` names what the figure feeds in that analysis.
-#}
with

vintages as (

    select * from {{ ref('int_ssb__measures_all_vintages') }}

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

),

used as (

    select analysis, measure, string_agg(distinct used_in, '; ' order by used_in) as used_in
    from reads
    group by analysis, measure

),

paired as (

    select
        table_id,
        measure,
        region_code,
        year,
        arg_max({'vintage': vintage, 'updated': source_updated, 'value': value, 'status': status_symbol}, vintage)
            filter (where cast(source_updated as date) < {{ analysis_release_date('year', 'final') }}) as preliminary,
        arg_max({'vintage': vintage, 'updated': source_updated, 'value': value, 'status': status_symbol}, vintage)
            filter (where cast(source_updated as date) >= {{ analysis_release_date('year', 'final') }}) as final
    from vintages
    where measure in (select measure from used)
    group by table_id, measure, region_code, year

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

)

select
    used.analysis,
    coalesce(todays_codes.municipality_code, paired.region_code) as municipality_code,
    cast(paired.year as integer) as year,
    paired.table_id as source_table,
    paired.measure,
    labels.measure_label,
    used.used_in,
    paired.preliminary.vintage as preliminary_vintage,
    paired.preliminary.updated as preliminary_updated,
    paired.preliminary.value as preliminary_value,
    paired.preliminary.status as preliminary_status,
    paired.final.vintage as final_vintage,
    paired.final.updated as final_updated,
    paired.final.value as final_value,
    paired.final.status as final_status,
    paired.final.value - paired.preliminary.value as difference
from paired
inner join used using (measure)
left join todays_codes
    on todays_codes.region_code = paired.region_code
    and todays_codes.year = paired.year
inner join members
    on members.municipality_code = coalesce(todays_codes.municipality_code, paired.region_code)
    and members.year = paired.year
left join labels using (measure)
where paired.preliminary is not null
    and paired.final is not null
    and (paired.preliminary.value is distinct from paired.final.value
        or paired.preliminary.status is distinct from paired.final.status)
