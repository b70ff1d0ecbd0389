with source as (

    select * from {{ source('statsbudsjettet', 'municipal_deflator') }}

),

renamed as (

    select
        year,
        deflator_percent,
        estimate,
        published as published_month,
        origin,
        source as stated_in,
        citation,
        _file as file_name,
        _row as file_row,
        _vintage as vintage,
        _received_at as received_at
    from source

)

select * from renamed
