{#-
    Which KOSTRA group (EKGnn) each municipality belonged to in each year, on today's municipality codes:
    KLASS classification 112 (one answer per year), mapped forward with the KLASS 131 lineage. The comparison
    shows the groups of the ASSS members from this, never from a code written into the project.
-#}
with

groups as (

    select * from {{ ref('stg_klass__kostra_groups') }}

),

lineage as (

    select * from {{ ref('stg_klass__municipality_lineage') }}

)

select distinct
    groups.year,
    coalesce(lineage.to_code, groups.municipality_code) as municipality_code,
    groups.municipality_code as code_that_year,
    groups.group_code,
    groups.group_name
from groups
left join lineage
    on lineage.from_code = groups.municipality_code
    and lineage.changed_on > make_date(groups.year, 12, 31)
    and not lineage.is_split
