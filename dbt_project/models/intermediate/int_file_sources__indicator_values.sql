{#-
    Indicators from the file sources, latest vintage: KLI01 (Miljødirektoratet, sum over every sector,
    source and gas) and the three Kommune-NM ranks (INN08 total, INN09 county, UTD17 apprenticeship).
-#}
with

emissions as (

    {{ latest_vintage(ref('stg_miljodirektoratet__emissions')) }}

),

emission_totals as (

    select
        'KLI01' as indicator_id,
        municipality_code,
        year,
        list_sum(list(tonnes_co2e order by sector, emission_source, gas)) as value,
        'Miljødirektoratet' as source,
        'Klimagassutslipp fra kommuner' as source_table,
        vintage,
        max(fetched_at) as fetched_at,
        max(fetch_origin) as fetch_origin
    from emissions
    group by municipality_code, year, vintage

),

ranks_ranked as (

    select
        *,
        row_number() over (partition by municipality_code, year order by vintage desc) as recency
    from {{ ref('stg_kommune_nm__ranks') }}

),

ranks as (

    select * from ranks_ranked where recency = 1

),

rank_values as (

    select 'INN08' as indicator_id, municipality_code, year, cast(total_rank as double) as value, file_name, vintage, received_at from ranks
    union all
    select 'INN09', municipality_code, year, cast(county_rank as double), file_name, vintage, received_at from ranks
    union all
    select 'UTD17', municipality_code, year, cast(apprenticeship_rank as double), file_name, vintage, received_at from ranks

)

select indicator_id, municipality_code, year, value, source, source_table, vintage, fetched_at, fetch_origin
from emission_totals
union all
select indicator_id, municipality_code, year, value, 'NHO Kommune-NM', file_name, vintage, received_at,
    cast(null as varchar)
from rank_values
