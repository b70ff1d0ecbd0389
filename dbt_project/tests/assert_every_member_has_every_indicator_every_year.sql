-- Every ASSS member has a row for every indicator of the catalogue in every year from first_year:
-- a figure that never arrived shows as a status (not_measured, not_delivered, ...), not as a gap.
{#- The Dagster asset check hangs on the model the rule is about (it reads more than one). -#}
{{ config(meta={'dagster': {'ref': {'name': 'fct_indicator_values'}}}) }}
with expected as (
    select c.indicator_id, m.municipality_code, y.year
    from {{ ref('catalogue_indicators') }} as c
    cross join (select unnest([
        {%- for code in asss_municipalities() %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ]) as municipality_code) as m
    cross join (select unnest(range({{ var('first_year') }}, year({{ as_of_date() }}))) as year) as y
)
select expected.*
from expected
anti join {{ ref('fct_indicator_values') }} as f
    on f.indicator_id = expected.indicator_id
    and f.year = expected.year
    and f.municipality_code = expected.municipality_code
