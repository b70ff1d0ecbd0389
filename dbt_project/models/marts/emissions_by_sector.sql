{#-
    The home municipality's direct emissions by sector and year (Miljødirektoratet, latest vintage),
    the change against the 2009 reference year, and the home member's own climate-budget sector targets (seed
    climate_budget_targets): a member that has set none gets none.
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

final as (

    select
        by_sector.sector,
        by_sector.year,
        by_sector.tonnes_co2e,
        reference.tonnes_co2e_2009,
        round(100 * (by_sector.tonnes_co2e / nullif(reference.tonnes_co2e_2009, 0) - 1), 1) as change_since_2009_pct,
        targets.target_2021_pct,
        targets.target_2024_pct,
        targets.target_2030_pct,
        reference.tonnes_co2e_2009 * (1 + targets.target_2030_pct / 100.0) as target_2030_tonnes_co2e,
        targets.published_change_2021_pct,
        by_sector.vintage
    from by_sector
    left join reference using (sector)
    left join targets using (sector)

)

select * from final
