{#-
    Indicator values of the Handlingsprogram's indicators, one row per indicator x municipality x year: the
    SSB-sourced indicators for the 12 ASSS municipalities (today's codes) and SSB's aggregates, and
    the figures delivered through the registry drop zone and the Udir file route.
-#}
with

computed as (

    select * from {{ ref('int_indicator_values_computed') }}

),

catalogue as (

    select * from {{ ref('catalogue_indicators') }}

),

routes as (

    select * from {{ ref('ssb_indicator_routes') }}

),

registry as (

    select * from {{ ref('int_registry__values_latest') }}

),

fhi as (

    select * from {{ ref('int_fhi__values_latest') }}

),

files as (

    select * from {{ ref('int_file_sources__indicator_values') }}

),

udir as (

    select * from {{ ref('int_udir__values_latest') }}

),

published as (

    -- What the Handlingsprogram prints: a bundled figure among these is `published`, any other `illustrative`.
    select figure_id as indicator_id, region_code as municipality_code, year, value
    from {{ ref('published_figures') }}
    where figure_kind = 'indicator' and status = 'measured'

),

names as (

    -- Today's name of each code, from the latest labels SSB gave it.
    select category_code as municipality_code, max(category_label) as municipality_name
    from {{ ref('stg_ssb__categories') }}
    where dimension_code in ('{{ ssb_region_variables() | join("', '") }}')
        and vintage = (select max(vintage) from {{ ref('stg_ssb__categories') }} as c2
                       where c2.table_id = stg_ssb__categories.table_id)
    group by category_code

),

ssb_values as (

    select
        computed.indicator_id,
        computed.municipality_code,
        names.municipality_name,
        computed.year,
        computed.is_aggregate,
        computed.value,
        computed.status,
        computed.status_symbol,
        computed.is_series_break,
        computed.note,
        computed.period,
        computed.fetch_origin,
        'SSB' as source,
        routes.source_table,
        computed.source_updated,
        computed.vintage,
        computed.fetched_at
    from computed
    inner join routes using (indicator_id)
    left join names using (municipality_code)
    where computed.year >= {{ var('first_year') }}
        and computed.municipality_code in (
            {%- for code in asss_municipalities() + var('aggregate_regions') %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
        )

),

registry_values as (

    select
        registry.indicator_id,
        registry.municipality_code,
        names.municipality_name,
        registry.year,
        false as is_aggregate,
        registry.value,
        registry.status,
        cast(null as varchar) as status_symbol,
        false as is_series_break,
        registry.comment as note,
        cast(registry.year as varchar) as period,
        -- the Handlingsprogram's values bundled as the registry's first vintage, or the municipality's own files
        case when registry.file_name = 'handlingsprogram_2024_2027.csv' then 'snapshot' else 'live' end
            as fetch_origin,
        coalesce(registry.reported_source, catalogue.source_published) as source,
        registry.file_name as source_table,
        cast(null as timestamp) as source_updated,
        registry.vintage,
        registry.received_at as fetched_at
    from registry
    inner join catalogue using (indicator_id)
    left join names using (municipality_code)
    -- a file landed before its indicator moved to another route (UTD02 ... to udir) is kept in raw, not shown
    where catalogue.route = 'registry'

),

fhi_values as (

    select
        fhi.indicator_id,
        fhi.municipality_code,
        names.municipality_name,
        fhi.year,
        fhi.municipality_code = '0' as is_aggregate,
        fhi.value,
        fhi.status,
        fhi.status_symbol,
        fhi.is_series_break,
        concat_ws('; ',
            case when fhi.period <> fhi.year || '_' || fhi.year
                then 'FHI period ' || fhi.period || ', shown on its last year' end,
            fhi.note) as note,
        fhi.period,
        fhi.fetch_origin,
        'FHI' as source,
        fhi.table_id as source_table,
        fhi.source_updated,
        fhi.vintage,
        fhi.fetched_at
    from fhi
    left join names using (municipality_code)
    where fhi.year >= {{ var('first_year') }}

),

file_values as (

    select
        files.indicator_id,
        files.municipality_code,
        names.municipality_name,
        files.year,
        false as is_aggregate,
        files.value,
        case when files.value is not null then 'measured' else 'not_measured' end as status,
        cast(null as varchar) as status_symbol,
        false as is_series_break,
        cast(null as varchar) as note,
        cast(files.year as varchar) as period,
        -- the bundled Kommune-NM file and the recorded Miljødirektoratet workbook, or what came from outside
        case
            when files.source_table = 'kommune_nm_2019_2022.csv' then 'snapshot'
            when files.source = 'Miljødirektoratet' then coalesce(files.fetch_origin, 'snapshot')
            else 'live'
        end as fetch_origin,
        files.source,
        files.source_table,
        cast(null as timestamp) as source_updated,
        files.vintage,
        files.fetched_at
    from files
    left join names using (municipality_code)
    where files.year >= {{ var('first_year') }}

),

udir_values as (

    select
        udir.indicator_id,
        udir.municipality_code,
        names.municipality_name,
        udir.year,
        false as is_aggregate,
        udir.value,
        udir.status,
        case when udir.status = 'suppressed' then '*' end as status_symbol,
        false as is_series_break,
        concat_ws('; ',
            'Udir school year ' || udir.school_year || ', shown on its first year',
            case when udir.reported_municipality_code <> udir.municipality_code
                then 'reported by Udir as ' || udir.reported_municipality_code end,
            udir.trinn) as note,
        udir.school_year as period,
        -- the Handlingsprogram's published figures bundled in snapshots/udir, or an export the data team dropped
        case when udir.fetch_origin = 'inbox' then 'live' else 'snapshot' end as fetch_origin,
        'Udir' as source,
        udir.file_name as source_table,
        cast(null as timestamp) as source_updated,
        udir.vintage,
        udir.received_at as fetched_at
    from udir
    left join names using (municipality_code)
    where udir.year >= {{ var('first_year') }}

),

combined as (

    select * from ssb_values
    union all
    select * from udir_values
    union all
    select * from file_values
    union all
    select * from registry_values
    union all
    select * from fhi_values

),

document as (

    -- Every cell of the Handlingsprogram's indicator tables, kept when no source gives a figure for it (the live
    -- source unknown or failing): a printed number as measured with the document as its source (origin
    -- `published`), "Tall kommer" as pending, "Ikke målt" as not_measured. A source's figure supersedes it.
    select
        printed.figure_id as indicator_id,
        printed.region_code as municipality_code,
        names.municipality_name,
        printed.year,
        false as is_aggregate,
        printed.value,
        printed.status,
        cast(null as varchar) as status_symbol,
        false as is_series_break,
        'printed in the Handlingsprogram 2024-2027 (line ' || printed.document_line || '); no source has given this figure'
            as note,
        cast(printed.year as varchar) as period,
        'document' as fetch_origin,
        'Handlingsprogram 2024-2027' as source,
        'handlingsprogram_2024_2027' as source_table,
        cast(null as timestamp) as source_updated,
        cast(null as varchar) as vintage,
        cast(null as timestamp) as fetched_at
    from {{ ref('published_figures') }} as printed
    left join names on names.municipality_code = printed.region_code
    where printed.figure_kind = 'indicator'
        and printed.year >= {{ var('first_year') }}
        and not exists (
            select 1 from combined
            where combined.indicator_id = printed.figure_id
                and combined.municipality_code = printed.region_code
                and combined.year = printed.year
                and combined.value is not null
        )

),

sourced as (

    select * from combined
    anti join document using (indicator_id, municipality_code, year)
    union all
    select * from document

),

members as (

    select unnest([
        {%- for code in asss_municipalities() %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ]) as municipality_code

),

failures as (

    select * from {{ ref('int_source_failures') }}

),

indicator_failures as (

    -- The indicators whose source table failed at its latest attempt (several tables: every failure named).
    select indicator_sources.indicator_id, string_agg(failures.failure_note, '; ' order by failures.source_table)
        as failure_note
    from (
        select
            indicator_id,
            case route when 'ssb' then 'SSB' when 'fhi' then 'FHI' when 'miljodirektoratet' then 'Miljødirektoratet'
                       when 'kommune_nm' then 'NHO Kommune-NM' end as source,
            unnest(case when route = 'kommune_nm' then ['kommune_nm'] else string_split(source_table, '+') end)
                as source_table
        from catalogue
        where nullif(source_table, '') is not null
    ) as indicator_sources
    inner join failures using (source, source_table)
    group by indicator_sources.indicator_id

),

registry_senders as (

    -- Members that delivered at least one registry file: for the others a registry indicator is not a gap
    -- in their figures but a file that never came.
    select distinct municipality_code from registry

),

member_grid as (

    -- Every indicator for every year for every ASSS member, so a figure that never arrived is a row with a
    -- status (never a silent gap, never 0).
    select
        catalogue.indicator_id,
        members.municipality_code,
        names.municipality_name,
        years.year,
        false as is_aggregate,
        cast(null as double) as value,
        case
            -- a source that failed before any vintage of it was loaded (a first run): the row says so, not "not measured"
            when indicator_failures.indicator_id is not null then 'source_error'
            when catalogue.route = 'registry' and registry_senders.municipality_code is null then 'not_delivered'
            when catalogue.source_published = 'Under utvikling' then 'under_development'
            else 'not_measured'
        end as status,
        cast(null as varchar) as status_symbol,
        false as is_series_break,
        case
            when indicator_failures.indicator_id is not null then indicator_failures.failure_note
            when catalogue.route = 'registry' and registry_senders.municipality_code is null
                then 'no registry file delivered for this municipality'
            when routes.source_status = 'source unknown'
                then 'no figure received: no public source showed the SSB table (src/styringsdata/sources/ssb_tables.yaml)'
            else 'no figure received for this year'
        end as note,
        cast(years.year as varchar) as period,
        cast(null as varchar) as fetch_origin,
        catalogue.source_published as source,
        cast(null as varchar) as source_table,
        cast(null as timestamp) as source_updated,
        cast(null as varchar) as vintage,
        cast(null as timestamp) as fetched_at
    from catalogue
    cross join members
    left join routes using (indicator_id)
    cross join (select unnest(range({{ var('first_year') }}, year({{ as_of_date() }}))) as year) as years
    left join names on names.municipality_code = members.municipality_code
    left join registry_senders on registry_senders.municipality_code = members.municipality_code
    left join indicator_failures on indicator_failures.indicator_id = catalogue.indicator_id
    anti join sourced
        on sourced.indicator_id = catalogue.indicator_id
        and sourced.municipality_code = members.municipality_code
        and sourced.year = years.year

),

failed_aggregates as (

    -- The aggregates a failing source would have given (SSB's own for KOSTRA tables, the country otherwise; FHI's
    -- country): a first run without the source still shows every row it would have had, as source_error.
    select distinct indicator_failures.indicator_id, indicator_failures.failure_note, aggregates.municipality_code
    from indicator_failures
    inner join catalogue using (indicator_id)
    cross join (
        select unnest(string_split(catalogue_tables.source_table, '+')) as table_id, catalogue_tables.indicator_id
        from catalogue as catalogue_tables
    ) as indicator_tables
    left join (values
        {%- for table in ssb_configured_tables() %}
        ('{{ table.table_id }}', '{{ table.region_variable }}'){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as ssb_tables (table_id, region_variable) on ssb_tables.table_id = indicator_tables.table_id
    cross join (select unnest([
        {%- for code in var('aggregate_regions') %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ]) as municipality_code) as aggregates
    where indicator_tables.indicator_id = indicator_failures.indicator_id
        and (
            (catalogue.route = 'ssb' and ssb_tables.region_variable = 'KOKkommuneregion0000'
                and aggregates.municipality_code <> '0')
            or (catalogue.route = 'ssb' and ssb_tables.region_variable <> 'KOKkommuneregion0000'
                and aggregates.municipality_code = '0')
            or (catalogue.route = 'fhi' and aggregates.municipality_code = '0')
        )

),

aggregate_grid as (

    select
        failed_aggregates.indicator_id,
        failed_aggregates.municipality_code,
        names.municipality_name,
        years.year,
        true as is_aggregate,
        cast(null as double) as value,
        'source_error' as status,
        cast(null as varchar) as status_symbol,
        false as is_series_break,
        failed_aggregates.failure_note as note,
        cast(years.year as varchar) as period,
        cast(null as varchar) as fetch_origin,
        catalogue.source_published as source,
        cast(null as varchar) as source_table,
        cast(null as timestamp) as source_updated,
        cast(null as varchar) as vintage,
        cast(null as timestamp) as fetched_at
    from failed_aggregates
    inner join catalogue using (indicator_id)
    cross join (select unnest(range({{ var('first_year') }}, year({{ as_of_date() }}))) as year) as years
    left join names using (municipality_code)
    anti join combined
        on combined.indicator_id = failed_aggregates.indicator_id
        and combined.municipality_code = failed_aggregates.municipality_code
        and combined.year = years.year

),

completed as (

    select * from sourced
    union all
    select * from member_grid
    union all
    select * from aggregate_grid

),

final as (

    select
        completed.indicator_id,
        completed.municipality_code,
        completed.municipality_name,
        completed.year,
        completed.is_aggregate,
        completed.value,
        round(completed.value, cast(catalogue.decimals as integer)) as value_rounded,
        catalogue.unit,
        completed.status,
        completed.status_symbol,
        completed.is_series_break,
        case
            -- a printed figure kept while its source fails says both (issue 21 and 23)
            when completed.fetch_origin = 'document' and indicator_failures.indicator_id is not null
                then completed.note || '; its source failed: ' || indicator_failures.failure_note
            else completed.note
        end as note,
        completed.period,
        case
            when completed.value is null then null
            when completed.fetch_origin = 'live' then 'live'
            when completed.fetch_origin = 'document' then 'published'
            when published.indicator_id is not null
                and abs(completed.value - published.value) <= 0.5 * pow(10, -cast(catalogue.decimals as integer)) + 1e-9
                then 'published'
            else 'illustrative'
        end as origin,
        catalogue.route,
        completed.source,
        completed.source_table,
        completed.source_updated,
        completed.vintage,
        completed.fetched_at
    from completed
    inner join catalogue using (indicator_id)
    left join indicator_failures on indicator_failures.indicator_id = completed.indicator_id
    left join published
        on published.indicator_id = completed.indicator_id
        and published.municipality_code = completed.municipality_code
        and published.year = completed.year

)

select * from final
