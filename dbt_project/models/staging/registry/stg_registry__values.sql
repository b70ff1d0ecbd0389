with source as (

    select * from {{ source('registry', 'registry_values') }}

),

renamed as (

    select
        indicator_id,
        municipality_code,
        period as year,
        value,
        unit,
        status,
        source as reported_source,
        comment,
        _file as file_name,
        _row as file_row,
        _vintage as vintage,
        _received_at as received_at
    from source

)

select * from renamed
