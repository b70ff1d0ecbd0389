{#- The 88 indicators of the target set, as BI tools and the report read them. -#}
select
    indicator_id,
    focus_area,
    sub_goal,
    indicator_name,
    source_published,
    source_system,
    statistics_origin,
    route,
    source_table,
    frequency_published,
    frequency,
    notes,
    unit,
    cast(decimals as integer) as decimals,
    direction,
    nullif(target_rule, '') as target_rule,
    formula,
    series_verified
from {{ ref('catalogue_indicators') }}
