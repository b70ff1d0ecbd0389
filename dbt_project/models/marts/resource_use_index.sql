{#-
    Ressursbruksindikator as KS computes it (../shared/reference/asss-method.md §2; KS's area pages, seed
    resource_use_areas): per member, service area and year,

      1. net operating expenses (AGD2, 1000 kr) on the area's functions, table 12367;
      2. less depreciation (art 590) on the same functions;
      3. corrected for expense need: divided by the member's expense-need index for the area's cost-key sector
         (int_asss__expense_need_index; 110 -> / 1.10);
      4. employer's tax and pension: not applied, no source we read has the inputs (column
         employer_tax_pension_correction says so);

    per inhabitant (table 11805), divided by the same for the ASSS average: sum over the members valid that year
    (int_peer_groups__members_by_year) of the corrected expenses over the sum of their inhabitants, computed only
    when every member has the figure. The ASSS average is therefore exactly the var resource_use_asss_level (1):
    the members' indices weighted by inhabitants average to it. index_net_expenses and
    index_less_depreciation are the same ratio after steps 1 and 2, so a reader sees what each correction moved.
    An area whose functions no source we read names has a row per member and year saying why.
-#}
{%- set level = var('resource_use_asss_level') -%}

with

areas as (

    select
        service_area,
        service_area_name,
        need_area,
        string_split(coalesce(net_expense_measures, ''), ';') as net_expense_measures,
        string_split(coalesce(depreciation_measures, ''), ';') as depreciation_measures,
        population_measure,
        not_computed_reason,
        not_computed_reason_nb,
        net_expense_measures is not null as is_computed
    from {{ ref('resource_use_areas') }}

),

asss as (

    select year, municipality_code, member_count
    from {{ ref('int_peer_groups__members_by_year') }}
    where peer_group = 'ASSS'

),

measures as (

    select measure, municipality_code, year, value, source_updated, vintage, fetch_origin
    from {{ ref('int_ssb__measures_harmonised') }}

),

years as (

    -- the years the base tables hold for the members
    select distinct measures.year
    from measures
    inner join asss using (municipality_code, year)
    where measures.measure in (select population_measure from areas)

),

grid as (

    select asss.municipality_code, asss.year, asss.member_count, areas.*
    from asss
    inner join years using (year)
    cross join areas

),

parts as (

    select
        grid.municipality_code,
        grid.year,
        grid.service_area,
        -- a part is known only when every function has a figure: a missing function is not zero
        case when count(measures.value) filter (where list_contains(grid.net_expense_measures, measures.measure))
                = len(any_value(grid.net_expense_measures))
            then sum(measures.value) filter (where list_contains(grid.net_expense_measures, measures.measure))
        end as net_expenses_1000nok,
        case when count(measures.value) filter (where list_contains(grid.depreciation_measures, measures.measure))
                = len(any_value(grid.depreciation_measures))
            then sum(measures.value) filter (where list_contains(grid.depreciation_measures, measures.measure))
        end as depreciation_1000nok,
        max(measures.value) filter (where measures.measure = grid.population_measure) as inhabitants,
        max(measures.source_updated) as source_updated,
        coalesce(bool_and(measures.fetch_origin = 'live'), false) as parts_are_live
    from grid
    left join measures
        on measures.municipality_code = grid.municipality_code
        and measures.year = grid.year
        and (list_contains(grid.net_expense_measures, measures.measure)
            or list_contains(grid.depreciation_measures, measures.measure)
            or measures.measure = grid.population_measure)
    where grid.is_computed
    group by grid.municipality_code, grid.year, grid.service_area

),

need as (

    select municipality_code, year, need_area, need_index, origin
    from {{ ref('int_asss__expense_need_index') }}

),

corrected as (

    select
        grid.municipality_code,
        grid.year,
        grid.member_count,
        grid.service_area,
        grid.service_area_name,
        grid.need_area,
        grid.is_computed,
        grid.not_computed_reason,
        grid.not_computed_reason_nb,
        parts.net_expenses_1000nok,
        parts.depreciation_1000nok,
        parts.net_expenses_1000nok - parts.depreciation_1000nok as net_expenses_less_depreciation_1000nok,
        parts.inhabitants,
        parts.source_updated,
        parts.parts_are_live,
        need.need_index,
        need.origin as need_index_origin,
        (parts.net_expenses_1000nok - parts.depreciation_1000nok) * 100 / need.need_index
            as need_corrected_expenses_1000nok
    from grid
    left join parts using (municipality_code, year, service_area)
    left join need
        on need.municipality_code = grid.municipality_code
        and need.year = grid.year
        and need.need_area = grid.need_area

),

asss_average as (

    select
        year,
        service_area,
        case when count(net_expenses_1000nok * inhabitants) = any_value(member_count)
            then 1000 * sum(net_expenses_1000nok) / sum(inhabitants) end as asss_net_expenses_per_inhabitant,
        case when count(net_expenses_less_depreciation_1000nok * inhabitants) = any_value(member_count)
            then 1000 * sum(net_expenses_less_depreciation_1000nok) / sum(inhabitants) end
            as asss_less_depreciation_per_inhabitant,
        case when count(need_corrected_expenses_1000nok * inhabitants) = any_value(member_count)
            then 1000 * sum(need_corrected_expenses_1000nok) / sum(inhabitants) end
            as asss_need_corrected_per_inhabitant,
        count(need_corrected_expenses_1000nok * inhabitants) as members_with_figure,
        -- the index is against the average: one member's illustrative inputs make every member's index so
        bool_and(parts_are_live and need_index_origin is distinct from 'illustrative') as all_inputs_real,
        any_value(member_count) as member_count
    from corrected
    group by year, service_area

),

indexed as (

    select
        corrected.*,
        1000 * corrected.net_expenses_1000nok / nullif(corrected.inhabitants, 0) as net_expenses_per_inhabitant,
        1000 * corrected.net_expenses_less_depreciation_1000nok / nullif(corrected.inhabitants, 0)
            as less_depreciation_per_inhabitant,
        1000 * corrected.need_corrected_expenses_1000nok / nullif(corrected.inhabitants, 0)
            as need_corrected_per_inhabitant,
        asss_average.asss_net_expenses_per_inhabitant,
        asss_average.asss_less_depreciation_per_inhabitant,
        asss_average.asss_need_corrected_per_inhabitant,
        asss_average.members_with_figure,
        asss_average.all_inputs_real
    from corrected
    left join asss_average using (year, service_area)

),

final as (

    select
        *,
        {{ level }} * net_expenses_per_inhabitant / nullif(asss_net_expenses_per_inhabitant, 0) as index_net_expenses,
        {{ level }} * less_depreciation_per_inhabitant / nullif(asss_less_depreciation_per_inhabitant, 0)
            as index_less_depreciation,
        {{ level }} * need_corrected_per_inhabitant / nullif(asss_need_corrected_per_inhabitant, 0)
            as resource_use_index
    from indexed

)

select
    municipality_code,
    municipality_code = '{{ var("home_municipality") }}' as is_home_municipality,
    true as in_asss_average,
    service_area,
    service_area_name,
    cast(year as integer) as year,
    net_expenses_1000nok,
    depreciation_1000nok,
    net_expenses_less_depreciation_1000nok,
    inhabitants,
    need_area,
    need_index,
    need_corrected_expenses_1000nok,
    net_expenses_per_inhabitant,
    less_depreciation_per_inhabitant,
    need_corrected_per_inhabitant,
    asss_net_expenses_per_inhabitant,
    asss_less_depreciation_per_inhabitant,
    asss_need_corrected_per_inhabitant,
    index_net_expenses,
    index_less_depreciation,
    index_less_depreciation - index_net_expenses as depreciation_effect,
    resource_use_index - index_less_depreciation as need_correction_effect,
    'not applied: no source we read has the members'' employer''s tax zones or pension costs by function, '
        || 'nor KS''s correction factors' as employer_tax_pension_correction,
    resource_use_index,
    round(resource_use_index, 2) as resource_use_index_rounded,
    case when need_index_origin = 'illustrative' then 'illustrative' when need_index_origin is not null then 'published' end
        as inputs_origin,
    -- where the figure comes from, as kostra_comparison says it for its computed figures: live when SSB's parts
    -- were fetched live and no member's expense-need index is illustrative, illustrative otherwise
    case
        when resource_use_index is null then null
        when all_inputs_real then 'live'
        else 'illustrative'
    end as origin,
    {{ analysis_status('year', 'source_updated') }} as analysis_status,
    source_updated,
    case
        when not is_computed then 'not computed: ' || not_computed_reason
        when net_expenses_1000nok is null or depreciation_1000nok is null or inhabitants is null
            then 'not computed: a function, its depreciation or the inhabitants lack a figure in 12367/11805'
        when need_index is null then 'not computed: no expense-need index (' || need_area || ', ' || year || ')'
        when resource_use_index is null
            then 'no ASSS average: ' || members_with_figure || ' of ' || member_count || ' members have the figure'
    end as note,
    -- the same in Norwegian, for the macro group's report
    case
        when not is_computed then 'ikke beregnet: ' || not_computed_reason_nb
        when net_expenses_1000nok is null or depreciation_1000nok is null or inhabitants is null
            then 'ikke beregnet: en funksjon, avskrivningene eller innbyggertallet mangler i SSBs tall'
        when need_index is null then 'ikke beregnet: kommunens indeks for beregnet utgiftsbehov mangler for året'
        when resource_use_index is null
            then 'ikke noe ASSS-snitt: ' || members_with_figure || ' av ' || member_count || ' medlemmer har tallet'
    end as note_nb
from final
