{#-
    The ressursbruksindikator's ASSS average is var resource_use_asss_level (1) by definition, for every area and
    year: the ASSS figure is sum of corrected expenses over sum of inhabitants, so the members' indices weighted
    by their inhabitants average to it, and every member valid that year is in it.
-#}
with

indexed as (

    select
        service_area,
        year,
        sum(resource_use_index * inhabitants) / sum(inhabitants) as asss_average_index,
        count(*) as members
    from {{ ref('resource_use_index') }}
    where in_asss_average and resource_use_index is not null
    group by service_area, year

),

valid as (

    select year, count(*) as members_valid
    from {{ ref('int_peer_groups__members_by_year') }}
    where peer_group = 'ASSS'
    group by year

)

select indexed.*, valid.members_valid
from indexed
left join valid using (year)
where abs(indexed.asss_average_index - {{ var('resource_use_asss_level') }}) > 1e-9
    or indexed.members is distinct from valid.members_valid
