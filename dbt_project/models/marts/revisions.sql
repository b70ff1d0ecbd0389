{#-
    Figures that changed between two vintages of the same source: old and new value and both vintages.
    SSB at measure level (before harmonisation), FHI per table cell, Miljødirektoratet per sector total,
    registry figures per indicator, Kommune-NM per rank. A first vintage has nothing to compare with.
-#}
with

ssb as (

    select 'SSB' as source, table_id as source_table, measure as series, region_code, year,
           vintage, value, status_symbol as status
    from {{ ref('int_ssb__measures_all_vintages') }}

),

fhi as (

    select 'FHI', table_id, indicator_id, region_code, year, vintage, value, status_symbol
    from {{ ref('stg_fhi__values') }}

),

emissions as (

    select 'Miljødirektoratet', 'Klimagassutslipp fra kommuner', sector, municipality_code, year, vintage,
           list_sum(list(tonnes_co2e order by emission_source, gas)), null
    from {{ ref('stg_miljodirektoratet__emissions') }}
    group by sector, municipality_code, year, vintage

),

registry as (

    select 'registry', 'registry', indicator_id, municipality_code, year, vintage, value, status
    from {{ ref('stg_registry__values') }}

),

udir as (

    select 'Udir', 'udir', indicator_id, municipality_code, year, vintage, value, status
    from {{ ref('stg_udir__indicator_values') }}

),

kommune_nm as (

    select 'NHO Kommune-NM', 'kommune_nm', 'total_rank', municipality_code, year, vintage, cast(total_rank as double), null
    from {{ ref('stg_kommune_nm__ranks') }}

),

unioned as (

    select * from ssb
    union all select * from fhi
    union all select * from emissions
    union all select * from registry
    union all select * from kommune_nm
    union all select * from udir

),

todays_codes as (

    -- Which of today's municipalities a code of that year belongs to (a split code: the successor that took
    -- most of it), so a revision can be told to the member that answers for the figure.
    select region_code, year, arg_max(municipality_code, contributor_count) as municipality_code
    from {{ ref('int_region_codes_harmonised') }}
    group by region_code, year

),

compared as (

    select
        *,
        lag(vintage) over w as old_vintage,
        lag(value) over w as old_value,
        lag(status) over w as old_status
    from unioned
    window w as (partition by source, source_table, series, region_code, year order by vintage)

)

select
    compared.source,
    compared.source_table,
    compared.series,
    compared.region_code,
    coalesce(todays_codes.municipality_code, compared.region_code) as municipality_code,
    compared.year,
    compared.old_vintage,
    compared.vintage as new_vintage,
    compared.old_value,
    compared.value as new_value,
    compared.value - compared.old_value as difference,
    compared.old_status,
    compared.status as new_status
from compared
left join todays_codes
    on todays_codes.region_code = compared.region_code
    and todays_codes.year = compared.year
where compared.old_vintage is not null
    and (compared.value is distinct from compared.old_value or compared.status is distinct from compared.old_status)
