{#- FHI recomputes whole series: only the latest vintage of each table counts. -#}
with

values_all as (

    select * from {{ ref('stg_fhi__nokkel_values') }}

),

latest as (

    select *
    from values_all
    where vintage = (select max(v.vintage) from values_all as v where v.table_id = values_all.table_id)

)

select
    indicator_id,
    municipality_code,
    year,
    value,
    case when value is not null then 'measured' else 'not_measured' end as status,
    status_symbol,
    table_id,
    period,
    vintage,
    source_updated,
    fetched_at
from latest
where sex_code = '0'
