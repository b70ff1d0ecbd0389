with source as (

    select * from {{ source('miljodirektoratet', 'miljodirektoratet_emissions') }}

),

renamed as (

    select
        municipality_code,
        municipality_name,
        county,
        year,
        sector,
        emission_source,
        gas,
        tonnes_co2e,
        _row as file_row,
        _origin as fetch_origin,
        _vintage as vintage,
        _fetched_at as fetched_at
    from source

)

select * from renamed
