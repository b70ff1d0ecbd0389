{#-
    Each key figure x region x year with what a group figure needs: the figure itself, and its parts when known.

    - value: SSB's KOSTRA series (`kostra:` measures) where the key figure has one; otherwise the A/B figure
      computed as KS does (int_kostra__key_figure_parts; route asss_formula).
    - numerator, denominator, scale: the parts A and B where the figure is KS's A/B figure.
    - weight: otherwise the key figure's denominator from the base tables (seed kostra_key_figure_weights: the
      inhabitants of the age group a per-inhabitant figure is per, the total a share is of), so that
      sum(value x weight) / sum(weight) over a group is sum(A) / sum(B) with A = value x B.
-#}
with

series as (

    select
        substr(measure, 8) as key_figure_id,
        municipality_code,
        year,
        value,
        fetch_origin,
        'kostra_series' as figure_source
    from {{ ref('int_ssb__measures_harmonised') }}
    where measure like 'kostra:%'

),

parts as (

    select * from {{ ref('int_kostra__key_figure_parts') }}

),

figures as (

    select * from series
    union all by name
    -- A key figure without an SSB series of its own takes KS's A/B figure.
    select
        parts.key_figure_id,
        parts.municipality_code,
        parts.year,
        parts.value,
        parts.fetch_origin,
        'asss_formula' as figure_source
    from parts
    where not exists (select 1 from series where series.key_figure_id = parts.key_figure_id)

),

weights as (

    select
        weights.key_figure_id,
        weights.basis as weight_basis,
        measures.municipality_code,
        measures.year,
        measures.value as weight
    from {{ ref('kostra_key_figure_weights') }} as weights
    inner join {{ ref('int_ssb__measures_harmonised') }} as measures on measures.measure = weights.weight_measure

)

select
    figures.key_figure_id,
    figures.municipality_code,
    figures.year,
    figures.value,
    figures.figure_source,
    figures.fetch_origin,
    -- A key figure with an SSB series of its own is weighted by its denominator, so its group figure agrees with the
    -- members' figures shown beside it; its A/B parts (KOPP04) stay in int_kostra__key_figure_parts as a check.
    case when figures.figure_source = 'asss_formula' then parts.numerator end as numerator,
    case when figures.figure_source = 'asss_formula' then parts.denominator end as denominator,
    case when figures.figure_source = 'asss_formula' then parts.scale end as scale,
    weights.weight,
    weights.weight_basis
from figures
left join parts using (key_figure_id, municipality_code, year)
left join weights using (key_figure_id, municipality_code, year)
