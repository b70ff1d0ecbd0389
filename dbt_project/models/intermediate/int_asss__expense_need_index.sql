{#- The expense-need index in use: per municipality, year and cost-key sector, the newest file's figure. -#}
with

ranked as (

    select
        *,
        row_number() over (
            partition by municipality_code, year, need_area order by vintage desc, file_row desc
        ) as recency
    from {{ ref('stg_gront_hefte__expense_need_index') }}

)

select
    municipality_code,
    year,
    need_area,
    need_index,
    origin,
    stated_in,
    citation,
    vintage
from ranked
where recency = 1
