with source as (

    select * from {{ source('udir', 'udir_values') }}

),

renamed as (

    select
        indicator_id,
        municipality_code,
        reported_municipality_code,
        school_year,
        year,
        value,
        status,
        respondents,
        trinn,
        _file as file_name,
        _row as file_row,
        _origin as fetch_origin,
        _vintage as vintage,
        _received_at as received_at
    from source

)

select * from renamed
