with source as (

    select * from {{ source('ssb', 'ssb_01222') }}

),

renamed as (

    select
        "Region" as region_code,
        "ContentsCode" as contents_code,
        "Tid" as period,
        cast(left("Tid", 4) as integer) as year,
        cast(right("Tid", 1) as integer) as quarter,
        value,
        status as status_symbol,
        _vintage as vintage,
        _source_updated as source_updated,
        _fetched_at as fetched_at
    from source

)

select * from renamed
