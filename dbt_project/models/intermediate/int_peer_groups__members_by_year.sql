{#-
    Who is in each peer group in each year, on today's municipality codes.

    - The named groups of seed peer_groups (ASSS, KS storbynettverk, any group a member defines): a municipality
      belongs to a group for year Y when its membership covers 31 December of Y. KOSTRA figures are figures for
      the accounting year, published after it ends, so a member that joins during a year (Asker and Lillestrøm
      in ASSS in September 2022, Drammen in KS storbynettverk in November 2020) counts for that whole year.
    - ASSS_UTEN_OSLO: ASSS without Oslo (0301), derived here so the member list lives once.
    - KOSTRA_GROUP: the home member's KOSTRA group from KLASS 112 in the version valid for each year (the 2020
      grouping renumbered the groups, so the code alone does not say who is in it), with every municipality
      KLASS puts in it that year.

    `ssb_region_code` names SSB's region (EKGnn) whose members are exactly the group's that year: its figures
    are SSB's own and are used as the group's figure.
-#}
with

years as (

    select unnest(range(2015, cast(year(current_date) as integer) + 2)) as year

),

named as (

    select
        peer_groups.peer_group,
        peer_groups.peer_group_name,
        cast(peer_groups.defined_by as varchar) as defined_by,
        years.year,
        peer_groups.municipality_code
    from {{ ref('peer_groups') }} as peer_groups
    inner join years
        on peer_groups.valid_from <= make_date(years.year, 12, 31)
        and (peer_groups.valid_to is null or peer_groups.valid_to >= make_date(years.year, 12, 31))

),

without_oslo as (

    select
        'ASSS_UTEN_OSLO' as peer_group,
        'ASSS uten Oslo' as peer_group_name,
        defined_by,
        year,
        municipality_code
    from named
    where peer_group = 'ASSS' and municipality_code <> '0301'

),

kostra as (

    select * from {{ ref('int_kostra_groups__membership') }}

),

home_group as (

    select
        'KOSTRA_GROUP' as peer_group,
        'KOSTRA-gruppe (' || any_value(home.group_name) || ')' as peer_group_name,
        'SSB' as defined_by,
        home.year,
        kostra.municipality_code
    from kostra as home
    inner join kostra on kostra.year = home.year and kostra.group_code = home.group_code
    where home.municipality_code = '{{ var("home_municipality") }}'
    group by home.year, kostra.municipality_code, home.group_code

),

all_groups as (

    select * from named
    union all by name
    select * from without_oslo
    union all by name
    select * from home_group

),

group_sets as (

    select peer_group, year, list(municipality_code order by municipality_code) as members
    from all_groups
    group by peer_group, year

),

kostra_sets as (

    select group_code, year, list(municipality_code order by municipality_code) as members
    from kostra
    group by group_code, year

),

matched as (

    select group_sets.peer_group, group_sets.year, min(kostra_sets.group_code) as ssb_region_code
    from group_sets
    inner join kostra_sets on kostra_sets.year = group_sets.year and kostra_sets.members = group_sets.members
    group by group_sets.peer_group, group_sets.year

)

select
    all_groups.peer_group,
    all_groups.peer_group_name,
    all_groups.defined_by,
    all_groups.year,
    all_groups.municipality_code,
    count(*) over (partition by all_groups.peer_group, all_groups.year) as member_count,
    matched.ssb_region_code
from all_groups
left join matched using (peer_group, year)
