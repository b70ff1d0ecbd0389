{#-
    The newest file wins: a later extract restates a figure delivered earlier. "Newest" is the vintage
    name, the moment the file was landed (strictly increasing, microseconds; src/styringsdata/sources/registry.py):
    a later run's file beats an earlier run's, files of one run follow their modification time, then
    name. Never a digest. One file holds a figure once, so file_row only makes the order total.
-#}
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
