{#-
    Per source table: the source's last "updated", our last fetch, the next publication expected from
    the indicators' frequency, and whether it is late (as_of_date past the expected date plus 30 days).
    A table whose latest attempt failed is stale, with the error: its last good vintage is what is published
    (a table that never loaded has a row too, without a vintage).
-#}
with

catalogue as (

    select * from {{ ref('indicator_catalogue') }}

),

frequency_years as (

    select
        route,
        source_table,
        min(case frequency when 'yearly' then 1 when 'every_2_years' then 2 when 'every_3_years' then 3
                           when 'every_4_years' then 4 end) as cadence_years
    from catalogue
    group by route, source_table

),

ssb as (

    select
        'SSB' as source,
        table_id as source_table,
        max(source_updated) as last_source_updated,
        max(fetched_at) as last_fetched_at,
        max(vintage) as latest_vintage,
        -- the KOSTRA key figures (and 12134, the macro group's per-inhabitant key figure) and the A/B base
        -- tables of KS's formulas follow KOSTRA's yearly cycle; other tables take their indicators' cadence
        coalesce(
            (select min(f.cadence_years) from frequency_years as f
             where f.route = 'ssb' and list_contains(string_split(f.source_table, '+'), table_id)),
            case when table_id in (select source_table from {{ ref('kostra_key_figures') }}
                                   union all select numerator_table from {{ ref('kostra_key_figure_formulas') }}
                                   union all select denominator_table from {{ ref('kostra_key_figure_formulas') }})
                then 1 end
        ) as cadence_years
    from {{ ref('stg_ssb__table_vintages') }}
    group by table_id

),

fhi as (

    select 'FHI', table_id, max(source_updated), max(fetched_at), max(vintage), 1
    from {{ ref('stg_fhi__values') }}
    group by table_id

),

emissions as (

    select 'Miljødirektoratet', 'Klimagassutslipp fra kommuner', cast(null as timestamp), max(fetched_at), max(vintage), 1
    from {{ ref('stg_miljodirektoratet__emissions') }}

),

kommune_nm as (

    select 'NHO Kommune-NM', 'kommune_nm', cast(null as timestamp), max(received_at), max(vintage), 1
    from {{ ref('stg_kommune_nm__ranks') }}

),

klass as (

    -- KLASS has no publication cadence of its own: the window is a year from our last good answer, so a
    -- classification that has failed for longer than that is late (source_table as in raw.source_attempts)
    select 'KLASS', '131-changes', cast(null as timestamp), max(fetched_at), max(vintage), 1
    from {{ ref('stg_klass__municipality_lineage') }}
    union all
    select 'KLASS', '112-kostra-groups', cast(null as timestamp), max(fetched_at), max(vintage), 1
    from {{ ref('stg_klass__kostra_groups') }}

),

udir as (

    select 'Udir', 'udir', cast(null as timestamp), max(received_at), max(vintage), 1
    from {{ ref('stg_udir__indicator_values') }}

),

held as (

    select * from ssb
    union all select * from fhi
    union all select * from emissions
    union all select * from kommune_nm
    union all select * from udir
    union all select * from klass

),

failures as (

    select * from {{ ref('int_source_failures') }}

),

unioned as (

    select * from held
    union all
    -- failed before any vintage of the table was loaded
    select failures.source, failures.source_table, null, null, null,
        case when failures.source <> 'SSB' then 1
             when failures.source_table in (select source_table from {{ ref('kostra_key_figures') }}) then 1
             else (select min(f.cadence_years) from frequency_years as f
                   where f.route = 'ssb' and list_contains(string_split(f.source_table, '+'), failures.source_table))
        end
    from failures
    anti join held using (source, source_table)

)

select
    unioned.source,
    unioned.source_table,
    last_source_updated,
    last_fetched_at,
    latest_vintage,
    cadence_years,
    cast(coalesce(last_source_updated, last_fetched_at) + to_years(cast(cadence_years as integer)) as date)
        as expected_next_publication,
    {{ as_of_date() }} > cast(coalesce(last_source_updated, last_fetched_at) + to_years(cast(cadence_years as integer))
        + interval 30 days as date) as is_late,
    failures.source_table is not null as is_stale,
    failures.failure_note as last_error,
    failures.failed_at as last_failed_at
from unioned
left join failures using (source, source_table)
