{#-
    The newest Udir figure per indicator, municipality and year: a later export restates a figure delivered
    earlier. Vintage names start with the landing time (src/styringsdata/sources/file_contract.py), so they order the files.
-#}
with

ranked as (

    select
        *,
        row_number() over (
            partition by indicator_id, municipality_code, year
            order by vintage desc, file_row desc
        ) as recency
    from {{ ref('stg_udir__indicator_values') }}

)

select * exclude (recency) from ranked
where recency = 1
