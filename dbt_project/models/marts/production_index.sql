{#-
    Produksjonsindeks per sector and in total, built as the ASSS version (SØF-rapport 06/11; asss-method.md §4):

    - sector indicator i for member m: x = output / need-corrected target group (target group x the member's
      expense-need index for the sector / 100), against the ASSS figure sum(output) / sum(corrected target
      group) over the members valid that year; the sector index is the indicators' weighted sum of x / x_ASSS
      (weights from seed production_index_indicators, summing to 1);
    - sector weight: the sector's share of the ASSS members' spending (net operating expenses less
      depreciation, mart resource_use_index) over the sectors in the total;
    - total: sum over the sectors of weight x sector index.

    With output valued at the network's unit cost, weight x index for a sector is the member's spending per
    need-corrected target group relative to the network's, so moving spending between two sectors, the total
    kept, leaves the total unchanged wherever the member's share of the network's corrected target group is
    the same in both (tests: production_index_reprioritisation_*). A sector enters the total only when every
    member has its index and the network its spending; otherwise it is left out and the note says why, never
    guessed.
-#}
with

sectors as (

    select
        sector,
        any_value(sector_name) as sector_name,
        any_value(spending_area) as spending_area,
        count(*) as indicator_count,
        count(*) filter (where output_measure is not null and target_measure is not null
            and indicator_weight is not null) as indicators_read,
        string_agg(indicator_id || ': ' || not_computed_reason, '; ' order by indicator_id)
            filter (where not_computed_reason is not null) as reasons
    from {{ ref('production_index_indicators') }}
    group by sector

),

members as (

    select year, municipality_code, member_count
    from {{ ref('int_peer_groups__members_by_year') }}
    where peer_group = 'ASSS'

),

spending as (

    select
        resource_use.year,
        resource_use.service_area,
        case when count(resource_use.net_expenses_less_depreciation_1000nok) = any_value(members.member_count)
            then sum(resource_use.net_expenses_less_depreciation_1000nok) end as asss_spending_1000nok,
        max(resource_use.analysis_status) as analysis_status,
        coalesce(bool_and(resource_use.origin = 'live'), false) as spending_is_live
    from {{ ref('resource_use_index') }} as resource_use
    inner join members using (municipality_code, year)
    group by resource_use.year, resource_use.service_area

),

years as (

    select distinct year from spending

),

indicators as (

    select * from {{ ref('int_asss__production_indicators') }}

),

network_indicators as (

    select
        year,
        indicator_id,
        sum(output) / nullif(sum(need_corrected_target_group), 0) as asss_x,
        count(output * need_corrected_target_group) as members_with_parts,
        -- each member's x is against the network's: one member's illustrative input makes every index so
        bool_and(inputs_are_live) as network_inputs_live
    from indicators
    group by year, indicator_id

),

member_sectors as (

    select
        indicators.municipality_code,
        indicators.year,
        indicators.sector,
        count(indicators.output / nullif(indicators.need_corrected_target_group, 0) / nullif(network_indicators.asss_x, 0))
            as indicators_with_value,
        sum(indicators.indicator_weight) as weight_sum,
        list_sum(list(indicators.indicator_weight * (indicators.output / indicators.need_corrected_target_group)
            / network_indicators.asss_x order by indicators.indicator_id)) as sector_index,
        bool_and(network_indicators.network_inputs_live) as inputs_live
    from indicators
    inner join network_indicators using (year, indicator_id)
    group by indicators.municipality_code, indicators.year, indicators.sector

),

grid as (

    select members.municipality_code, members.year, members.member_count, sectors.*
    from members
    inner join years using (year)
    cross join sectors

),

sector_rows as (

    select
        grid.municipality_code,
        grid.year,
        grid.sector,
        grid.sector_name,
        grid.member_count,
        case when member_sectors.indicators_with_value = grid.indicator_count
                and abs(member_sectors.weight_sum - 1) < 1e-9
            then member_sectors.sector_index end as sector_index,
        spending.asss_spending_1000nok,
        spending.analysis_status,
        coalesce(member_sectors.inputs_live, false) as inputs_live,
        coalesce(spending.spending_is_live, false) as spending_is_live,
        grid.indicators_read,
        grid.indicator_count,
        grid.reasons
    from grid
    left join member_sectors using (municipality_code, year, sector)
    left join spending on spending.year = grid.year and spending.service_area = grid.spending_area

),

sector_years as (

    -- a sector is in a year's total when every member has its index and the network its spending
    select
        year,
        sector,
        count(sector_index) = any_value(member_count) and any_value(asss_spending_1000nok) is not null as in_total,
        any_value(asss_spending_1000nok) as asss_spending_1000nok
    from sector_rows
    group by year, sector

),

weights as (

    select
        year,
        sector,
        in_total,
        case when in_total
            then asss_spending_1000nok / sum(asss_spending_1000nok) filter (where in_total) over (partition by year)
        end as sector_weight
    from sector_years

),

sectors_out as (

    select
        sector_rows.*,
        weights.in_total,
        weights.sector_weight
    from sector_rows
    inner join weights using (year, sector)

),

totals as (

    select
        municipality_code,
        year,
        'total' as sector,
        'Alle sektorer i indeksen' as sector_name,
        case when count(*) filter (where in_total) > 0
            then list_sum(list(sector_weight * sector_index order by sector) filter (where in_total)) end
            as sector_index,
        cast(null as double) as sector_weight,
        null as in_total,
        max(analysis_status) as analysis_status,
        -- the total weighs the sectors by the network's spending: its inputs as well as the sectors'
        case
            when count(*) filter (where in_total) = 0 then null
            when bool_and(inputs_live and spending_is_live) filter (where in_total) then 'live'
            else 'illustrative'
        end as origin,
        case
            when count(*) filter (where in_total) = 0
                then 'no sector computed: every sector is left out (see its row); no total'
            else 'covers ' || string_agg(sector, ', ' order by sector) filter (where in_total)
                || coalesce('; left out: ' || string_agg(sector, ', ' order by sector) filter (where not in_total), '')
        end as note
    from sectors_out
    group by municipality_code, year

)

select
    municipality_code,
    municipality_code = '{{ var("home_municipality") }}' as is_home_municipality,
    cast(year as integer) as year,
    sector,
    sector_name,
    false as is_total,
    sector_index,
    sector_weight,
    in_total,
    case
        when sector_index is null then null
        when inputs_live and (spending_is_live or not in_total) then 'live'
        else 'illustrative'
    end as origin,
    analysis_status,
    case
        when in_total then null
        when indicators_read < indicator_count
            then 'left out of the total: ' || reasons
        when asss_spending_1000nok is null then 'left out of the total: the network''s spending on the sector is not computed'
        else 'left out of the total: not every member has the sector index this year'
    end as note
from sectors_out
union all by name
select
    municipality_code,
    municipality_code = '{{ var("home_municipality") }}' as is_home_municipality,
    cast(year as integer) as year,
    sector,
    sector_name,
    true as is_total,
    sector_index,
    sector_weight,
    in_total,
    origin,
    analysis_status,
    note
from totals
