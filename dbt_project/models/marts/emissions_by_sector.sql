{#-
    The home municipality's direct emissions by sector and year (Miljødirektoratet, latest vintage),
    the change against the 2009 reference year, and the home member's own climate-budget sector targets (seed
    climate_budget_targets): a member that has set none gets none.

    When the workbook failed before any vintage of it was loaded (a first run, int_source_failures), every row the
    mart would have had is still there, without a figure, status source_error and the failure in note. What is
    known without the workbook decides the rows:
    - the sectors: the home member's climate budget (the sectors it set targets for are the sectors it reports
      emissions in); a member without a climate budget gets the sectors the seed names for any member, which are
      Miljødirektoratet's own sector names;
    - the years: those Miljødirektoratet publishes (2009, 2011, 2013, then every year from 2015: "Years in that
      file", ../shared/reference/sources.md §5) up to the year before as_of_date, the catalogue's "Ett års
      etterslep" for KLI01, the same last year as fct_indicator_values's rows for KLI01.
-#}
with

emissions as (

    {{ latest_vintage(ref('stg_miljodirektoratet__emissions')) }}

),

by_sector as (

    select
        sector,
        year,
        list_sum(list(tonnes_co2e order by emission_source, gas)) as tonnes_co2e,
        any_value(vintage) as vintage
    from emissions
    where municipality_code = '{{ var("home_municipality") }}'
    group by sector, year

),

reference as (

    select sector, tonnes_co2e as tonnes_co2e_2009
    from by_sector
    where year = 2009

),

targets as (

    select * from {{ ref('climate_budget_targets') }}
    where municipality_code = '{{ var("home_municipality") }}'

),

workbook_failure as (

    -- the workbook's latest attempt failed and raw holds no vintage of it: no row of by_sector exists
    select failures.failure_note
    from {{ ref('int_source_failures') }} as failures
    where failures.source = 'Miljødirektoratet'
        and not exists (select 1 from emissions)

),

expected_sectors as (

    select distinct sector from targets
    union
    select distinct sector from {{ ref('climate_budget_targets') }}
    where not exists (select 1 from targets)

),

published_years as (

    select unnest([2009, 2011, 2013] || range(2015, year({{ as_of_date() }}))) as year

),

failed_rows as (

    select
        expected_sectors.sector,
        published_years.year,
        cast(null as double) as tonnes_co2e,
        cast(null as varchar) as vintage,
        workbook_failure.failure_note
    from workbook_failure
    cross join expected_sectors
    cross join published_years

),

measured as (

    select sector, year, tonnes_co2e, vintage, cast(null as varchar) as failure_note
    from by_sector
    union all
    select sector, year, tonnes_co2e, vintage, failure_note
    from failed_rows

),

final as (

    select
        measured.sector,
        cast(measured.year as integer) as year,
        measured.tonnes_co2e,
        reference.tonnes_co2e_2009,
        round(100 * (measured.tonnes_co2e / nullif(reference.tonnes_co2e_2009, 0) - 1), 1) as change_since_2009_pct,
        targets.target_2021_pct,
        targets.target_2024_pct,
        targets.target_2030_pct,
        reference.tonnes_co2e_2009 * (1 + targets.target_2030_pct / 100.0) as target_2030_tonnes_co2e,
        targets.published_change_2021_pct,
        case when measured.failure_note is null then 'measured' else 'source_error' end as status,
        measured.failure_note as note,
        measured.vintage
    from measured
    left join reference using (sector)
    left join targets using (sector)

)

select * from final
