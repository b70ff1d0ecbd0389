{#- The measures at each table's latest vintage: what the marts show. -#}
with

all_vintages as (

    select * from {{ ref('int_ssb__measures_all_vintages') }}

)

select *
from all_vintages
where vintage = (select max(v.vintage) from all_vintages as v where v.table_id = all_vintages.table_id)
