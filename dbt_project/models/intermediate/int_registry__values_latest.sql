{#- The newest file wins: a later extract restates a figure delivered earlier. -#}
with

values_all as (

    select * from {{ ref('stg_registry__values') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by indicator_id, municipality_code, year
            order by vintage desc, file_row desc
        ) as recency
    from values_all

)

select * exclude (recency) from ranked
where recency = 1
