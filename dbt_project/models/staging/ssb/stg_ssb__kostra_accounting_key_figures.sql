with source as (

    select * from {{ source('ssb', 'ssb_12134') }}

),

renamed as (

    select
        "KOKkommuneregion0000" as region_code,
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
