{#-
    The municipal deflator the comparisons use: from the newest deflator file (each file is a whole
    series), per year the newest estimate published by the var deflator_as_of (YYYY-MM; empty = the newest
    estimate there is). The Handlingsprogram 2024-2027's KOSTRA tables, for instance, match the estimates
    of the state budget for 2023 (deflator_as_of = '2022-10'), not the later outcome.
-#}
{%- set as_of = var('deflator_as_of', '') -%}

with

latest_file as (

    {{ latest_vintage(ref('stg_statsbudsjettet__municipal_deflator')) }}

),

known as (

    select
        *,
        row_number() over (partition by year order by published_month desc, file_row desc) as recency
    from latest_file
    {% if as_of %}where published_month <= '{{ as_of }}'{% endif %}

)

select
    year,
    deflator_percent,
    estimate,
    published_month,
    origin,
    stated_in,
    citation,
    vintage
from known
where recency = 1
