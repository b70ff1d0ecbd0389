{#-
    The 88 indicators of the target set, as BI tools and the report read them: in the home member's own words
    where it gave them (seed member_indicator_texts), in the catalogue's neutral words otherwise. target_rule is
    the home member's own target; no member's target is anyone else's.
-#}
with

catalogue as (

    select * from {{ ref('catalogue_indicators') }}

),

home_texts as (

    select * from {{ ref('member_indicator_texts') }}
    where municipality_code = '{{ var("home_municipality") }}'

)

select
    catalogue.indicator_id,
    catalogue.focus_area,
    coalesce(nullif(home_texts.sub_goal, ''), catalogue.sub_goal) as sub_goal,
    coalesce(nullif(home_texts.indicator_name, ''), catalogue.indicator_name) as indicator_name,
    case when nullif(home_texts.indicator_name, '') is null then 'neutral' else 'home_member' end as name_from,
    home_texts.source as home_texts_source,
    catalogue.source_published,
    catalogue.source_system,
    catalogue.statistics_origin,
    catalogue.route,
    catalogue.source_table,
    catalogue.frequency_published,
    catalogue.frequency,
    catalogue.notes,
    catalogue.unit,
    cast(catalogue.decimals as integer) as decimals,
    catalogue.direction,
    nullif(home_texts.target_rule, '') as target_rule,
    catalogue.formula,
    catalogue.series_verified
from catalogue
left join home_texts using (indicator_id)
