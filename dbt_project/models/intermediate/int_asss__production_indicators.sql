{#-
    The produksjonsindeks's sector indicators per ASSS member and year (seed production_index_indicators):
    output (A) and the need-corrected target group (B x the member's expense-need index for the sector / 100),
    for the indicators whose output and target group are measures we read. Today none is (the seed says why per
    indicator), so the model is empty; the mart production_index then leaves every sector out and says so.
-#}
with

indicators as (

    select * from {{ ref('production_index_indicators') }}
    where output_measure is not null and target_measure is not null and indicator_weight is not null

),

members as (

    select year, municipality_code
    from {{ ref('int_peer_groups__members_by_year') }}
    where peer_group = 'ASSS'

),

measures as (

    select measure, municipality_code, year, value, fetch_origin
    from {{ ref('int_ssb__measures_harmonised') }}

),

need as (

    select municipality_code, year, need_area, need_index, origin
    from {{ ref('int_asss__expense_need_index') }}

)

select
    members.municipality_code,
    members.year,
    indicators.sector,
    indicators.indicator_id,
    cast(indicators.indicator_weight as double) as indicator_weight,
    output.value as output,
    target.value as target_group,
    need.need_index,
    target.value * need.need_index / 100 as need_corrected_target_group,
    -- real inputs only: both SSB figures fetched live and an expense-need index that is not illustrative
    coalesce(output.fetch_origin = 'live' and target.fetch_origin = 'live' and need.origin <> 'illustrative', false)
        as inputs_are_live
from indicators
inner join measures as output on output.measure = indicators.output_measure
inner join members on members.municipality_code = output.municipality_code and members.year = output.year
left join measures as target
    on target.measure = indicators.target_measure
    and target.municipality_code = members.municipality_code
    and target.year = members.year
left join need
    on need.municipality_code = members.municipality_code
    and need.year = members.year
    and need.need_area = indicators.need_area
