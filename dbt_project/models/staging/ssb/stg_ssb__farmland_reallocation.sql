with source as (

    select * from {{ source('ssb', 'ssb_06194') }}

),

renamed as (

    select
        "Region" as region_code,
        "ContentsCode" as contents_code,
        cast("Tid" as integer) as year,
        value,
        status as status_symbol,
        _vintage as vintage,
        _source_updated as source_updated,
        _fetched_at as fetched_at
    from source

)

select * from renamed
