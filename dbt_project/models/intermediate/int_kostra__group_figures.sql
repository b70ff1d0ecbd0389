{#-
    The key figures of every peer group (int_peer_groups__members_by_year) in every year, made the way SSB makes
    its KOSTRA groups and KS the ASSS figures (../shared/reference/asss-method.md §1):

    - ssb_region: SSB publishes a region whose members are exactly the group's that year (EKG12 is ASSS without
      Oslo since the 2020 grouping): SSB's own figure.
    - sum_ratio: sum(A) / sum(B) x scale over the members, from the key figure's A/B parts
      (int_kostra__key_figure_parts).
    - weighted_by_denominator: sum(value x B) / sum(B), B the key figure's denominator from the base tables
      (seed kostra_key_figure_weights): the same as sum(A) / sum(B) with A = value x B.
    - unweighted_mean: only where the key figure has no known denominator; said so in `method`.

    A group figure is computed only when every member valid that year has a figure (and its parts or weight);
    `members` lists who it covers, `member_count` how many.
-#}
with

memberships as (

    select * from {{ ref('int_peer_groups__members_by_year') }}

),

figures as (

    select * from {{ ref('int_kostra__member_figures') }}

),

key_figure_years as (

    select distinct key_figure_id, year from figures

),

group_years as (

    select
        peer_group,
        year,
        any_value(peer_group_name) as peer_group_name,
        any_value(ssb_region_code) as ssb_region_code,
        count(*) as member_count,
        string_agg(municipality_code, ', ' order by municipality_code) as members
    from memberships
    group by peer_group, year

),

by_members as (

    select
        figures.key_figure_id,
        memberships.peer_group,
        memberships.year,
        count(figures.value) as members_with_figure,
        count(figures.numerator) filter (where figures.denominator is not null) as members_with_parts,
        count(figures.weight) filter (where figures.value is not null) as members_with_weight,
        any_value(figures.scale) as scale,
        sum(figures.numerator) as numerator_sum,
        sum(figures.denominator) as denominator_sum,
        -- summed in a fixed order so reruns give bit-identical doubles
        list_sum(list(figures.value * figures.weight order by figures.municipality_code)) as weighted_sum,
        list_sum(list(figures.weight order by figures.municipality_code) filter (where figures.value is not null))
            as weight_sum,
        list_avg(list(figures.value order by figures.municipality_code)) as mean_value,
        any_value(figures.weight_basis) as weight_basis,
        bool_or(figures.fetch_origin is distinct from 'live') as uses_snapshot
    from memberships
    inner join figures
        on figures.municipality_code = memberships.municipality_code
        and figures.year = memberships.year
    group by figures.key_figure_id, memberships.peer_group, memberships.year

),

ssb as (

    select key_figure_id, municipality_code as region_code, year, value, fetch_origin
    from figures

),

combined as (

    select
        key_figure_years.key_figure_id,
        group_years.peer_group,
        group_years.peer_group_name,
        group_years.year,
        group_years.member_count,
        group_years.members,
        group_years.ssb_region_code,
        coalesce(by_members.members_with_figure, 0) as members_with_figure,
        by_members.members_with_parts,
        by_members.members_with_weight,
        by_members.numerator_sum,
        by_members.denominator_sum,
        ssb.value as ssb_value,
        case
            when ssb.value is not null then 'ssb_region'
            when by_members.members_with_parts = group_years.member_count then 'sum_ratio'
            when by_members.members_with_weight = group_years.member_count then 'weighted_by_denominator'
            when by_members.weight_basis is null and by_members.members_with_figure = group_years.member_count
                then 'unweighted_mean'
        end as method,
        by_members.scale,
        by_members.weighted_sum,
        by_members.weight_sum,
        by_members.mean_value,
        by_members.weight_basis,
        case when ssb.value is not null then ssb.fetch_origin = 'live' else not by_members.uses_snapshot end
            as is_live
    from key_figure_years
    inner join group_years using (year)
    left join by_members
        on by_members.key_figure_id = key_figure_years.key_figure_id
        and by_members.peer_group = group_years.peer_group
        and by_members.year = group_years.year
    left join ssb
        on ssb.key_figure_id = key_figure_years.key_figure_id
        and ssb.region_code = group_years.ssb_region_code
        and ssb.year = group_years.year

)

select
    key_figure_id,
    peer_group,
    peer_group_name,
    year,
    case method
        when 'ssb_region' then ssb_value
        when 'sum_ratio' then scale * numerator_sum / nullif(denominator_sum, 0)
        when 'weighted_by_denominator' then weighted_sum / nullif(weight_sum, 0)
        when 'unweighted_mean' then mean_value
    end as value,
    coalesce(method, 'incomplete') as method,
    -- What the members give, also where SSB's own figure is used: sum(A)/sum(B), or sum(value x B)/sum(B).
    case
        when members_with_parts = member_count then scale * numerator_sum / nullif(denominator_sum, 0)
        when members_with_weight = member_count then weighted_sum / nullif(weight_sum, 0)
    end as computed_value,
    case method
        when 'ssb_region' then 'SSBs eget tall for ' || ssb_region_code || ' (samme medlemmer)'
        when 'sum_ratio' then 'sum A / sum B over medlemmene'
        when 'weighted_by_denominator' then 'veid med ' || weight_basis
        when 'unweighted_mean' then 'uveid gjennomsnitt (ingen kjent nevner)'
        else members_with_figure || ' av ' || member_count || ' medlemmer har tall: ikke beregnet'
    end as method_note,
    ssb_region_code,
    member_count,
    members_with_figure,
    members,
    numerator_sum,
    denominator_sum,
    is_live
from combined
