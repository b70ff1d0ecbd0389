{#-
    Every SSB figure an indicator needs, as one long list of named measures, every vintage.
    measure_kind says how a measure may be combined across merged municipalities:
    counts can be summed, rates cannot.
-#}
{%- set measures = [
    ('12143', 'stg_ssb__kostra_financial_key_figures', 'rate',
        "case when account_group_code = 'AGD23' and contents_code = 'KOSbelopbrinv0000' then 'net_operating_result_pct' end"),
    ('12905', 'stg_ssb__kostra_property_management', 'rate',
        "case contents_code when 'KOSvedlikeholdm20000' then 'maintenance_per_m2' end"),
    ('10824', 'stg_ssb__introduction_programme_outcomes', 'count',
        "case when contents_code = 'DeltakereProg1' then case labour_market_status_code when '00' then 'intro_total' when '01' then 'intro_employed' when '02' then 'intro_education' end end"),
    ('01222', 'stg_ssb__population_changes_quarterly', 'count',
        "case when contents_code = 'Folketallet1' and quarter = 1 then 'population_start' when contents_code = 'Folketallet11' and quarter = 4 then 'population_end' end"),
    ('04861', 'stg_ssb__urban_settlements_area_population', 'count',
        "case contents_code when 'Areal' then 'urban_area_km2' when 'Bosatte' then 'urban_residents' end"),
    ('07984', 'stg_ssb__employment_by_residence_and_workplace', 'count',
        "case when industry_code = '00-99' and sex_code = '0' and age_group = '15-74' then case contents_code when 'Sysselsatte' then 'employed_residents' when 'SysselsatteArb' then 'jobs' end end"),
    ('13143', 'stg_ssb__kostra_water_supply', 'rate',
        "case contents_code when 'KOSandelvannfor0000' then 'water_supply_pct' end"),
    ('13144', 'stg_ssb__kostra_wastewater', 'rate',
        "case contents_code when 'KOSandelavlop0000' then 'wastewater_pct' end"),
    ('11787', 'stg_ssb__kostra_water_leakage', 'rate',
        "case contents_code when 'KOSandellekk0000' then 'leakage_pct' end"),
    ('08487', 'stg_ssb__reported_offences_by_scene', 'rate',
        "case when offence_group_code = '1VOLD' and contents_code = 'AnmLovbrPer1000' then 'violence_per_1000' end"),
    ('05940', 'stg_ssb__dwellings_started_by_building_type', 'count',
        "case when contents_code = 'Igangsatte' then case building_type_code when '111-113' then 'dwellings_detached' when '121-124' then 'dwellings_semi' when '131-136' then 'dwellings_row' when '141-146' then 'dwellings_block' when '151-159' then 'dwellings_shared' end end"),
    ('06505', 'stg_ssb__buildings_in_shore_zone', 'count',
        "case contents_code when 'NyeBygg4Aar' then 'shore_buildings_4y' end"),
    ('06194', 'stg_ssb__farmland_reallocation', 'count',
        "case contents_code when 'OmdispDyrkaDyrkbar' then 'farmland_reallocated_daa' end"),
    ('10314', 'stg_ssb__electricity_net_consumption', 'count',
        "case when consumer_group_code = '01' and contents_code = 'NettoForbruk' then 'electricity_mwh' end"),
    ('12241', 'stg_ssb__kostra_household_waste', 'rate',
        "case contents_code when 'KOShusholdavfkg0000' then 'household_waste_kg' when 'KOSmaterialgjen0000' then 'recycling_pct' end"),
    ('06445', 'stg_ssb__employment_rate_by_age', 'rate',
        "case when sex_code = '0' and age_group = '67-74' and contents_code = 'SysselProsent' then 'employment_67_74_pct' end"),
    ('12209', 'stg_ssb__kostra_care_services', 'rate',
        "case contents_code when 'KOSandel80hjemme0000' then 'over80_at_home_pct' end"),
    ('13470', 'stg_ssb__employment_by_workplace_industry', 'count',
        "case when contents_code = 'SysselsatteArb' then case industry_code when '00-99' then 'jobs_all' when '58-63' then 'jobs_ict' end end"),
    ('kostra_nokkeltall', 'stg_ssb__kostra_key_figures', 'rate', "'kostra:' || key_figure_id"),
    ('12143', 'stg_ssb__kostra_financial_key_figures', 'rate',
        "case when contents_code = 'KOSbelopbrinv0000' then case account_group_code when 'AGD23' then 'kostra:KOKO01' when 'KG31' then 'kostra:KOKO02' when '56' then 'kostra:KOKO03' when 'KG25' then 'kostra:KOKO05' when 'AGD86' then 'kostra:KOKO06' end end"),
    ('12134', 'stg_ssb__kostra_accounting_key_figures', 'rate',
        "case contents_code when 'KOSAG110000' then 'kostra:KOKO04' end"),
] -%}

with

{% for table_id, model, kind, measure in measures %}
measures_{{ loop.index }} as (

    select
        '{{ table_id }}' as table_id,
        {{ measure }} as measure,
        '{{ kind }}' as measure_kind,
        region_code,
        year,
        value,
        status_symbol,
        vintage,
        source_updated,
        fetched_at
    from {{ ref(model) }}

),
{% endfor %}

unioned as (

    {% for table_id, model, kind, measure in measures %}
    select * from measures_{{ loop.index }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unioned
where measure is not null
