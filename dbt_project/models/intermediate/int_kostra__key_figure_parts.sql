{#-
    The key figures KS documents as A / B (../shared/reference/asss-method.md §1), computed from SSB's base
    tables as KS computes them: per region x year, numerator A = the sum of the formula's numerator measures,
    denominator B = the sum of its denominator measures, value = scale x A / B (seed kostra_key_figure_formulas).
    On today's municipality codes (the measures are counts, summed over merged municipalities), and for SSB's
    own aggregates (EKGnn, EAK, EAKUO) where the base tables carry them. A and B are kept so that a group figure
    can be sum(A) / sum(B) over its members (int_kostra__group_figures).
-#}
with

formulas as (

    select
        key_figure_id,
        indicator,
        numerator_table,
        string_split(numerator_measures, ';') as numerator_measures,
        denominator_table,
        string_split(denominator_measures, ';') as denominator_measures,
        cast(scale as double) as scale,
        unit
    from {{ ref('kostra_key_figure_formulas') }}

),

measures as (

    select measure, municipality_code, year, value, is_aggregate, fetch_origin, vintage
    from {{ ref('int_ssb__measures_harmonised') }}

),

parts as (

    select
        formulas.key_figure_id,
        measures.municipality_code,
        measures.year,
        'numerator' as part,
        measures.measure,
        measures.value,
        measures.is_aggregate,
        measures.fetch_origin,
        measures.vintage
    from formulas
    inner join measures on list_contains(formulas.numerator_measures, measures.measure)
    union all
    select
        formulas.key_figure_id,
        measures.municipality_code,
        measures.year,
        'denominator' as part,
        measures.measure,
        measures.value,
        measures.is_aggregate,
        measures.fetch_origin,
        measures.vintage
    from formulas
    inner join measures on list_contains(formulas.denominator_measures, measures.measure)

),

summed as (

    select
        parts.key_figure_id,
        parts.municipality_code,
        parts.year,
        -- A part is known only when every measure it sums is there with a figure: a missing function is
        -- not zero.
        case
            when count(*) filter (where part = 'numerator' and value is not null)
                = len(any_value(formulas.numerator_measures))
                then sum(value) filter (where part = 'numerator')
        end as numerator,
        case
            when count(*) filter (where part = 'denominator' and value is not null)
                = len(any_value(formulas.denominator_measures))
                then sum(value) filter (where part = 'denominator')
        end as denominator,
        bool_or(is_aggregate) as is_aggregate,
        case when bool_and(fetch_origin = 'live') then 'live' else 'snapshot' end as fetch_origin,
        max(vintage) as vintage
    from parts
    inner join formulas using (key_figure_id)
    group by parts.key_figure_id, parts.municipality_code, parts.year

)

select
    summed.municipality_code,
    summed.year,
    summed.key_figure_id,
    formulas.indicator,
    summed.numerator,
    summed.denominator,
    formulas.scale,
    formulas.scale * summed.numerator / nullif(summed.denominator, 0) as value,
    formulas.unit,
    'asss_formula' as route,
    formulas.numerator_table,
    formulas.denominator_table,
    summed.is_aggregate,
    summed.fetch_origin,
    summed.vintage
from summed
inner join formulas using (key_figure_id)
