with source as (

    select * from {{ source('fhi', 'fhi_nokkel') }}

),

renamed as (

    select
        table_id,
        indicator_id,
        "GEO" as municipality_code,
        -- FHI codes periods as ranges ("2021_2021", or "2019_2021" for rolling averages): keep the end year
        cast(split_part("AAR", '_', 2) as integer) as year,
        "AAR" as period,
        "KJONN" as sex_code,
        "ALDER" as age_group,
        "MEASURE_TYPE" as measure_code,
        value,
        nullif(status, '') as status_symbol,
        _vintage as vintage,
        _source_updated as source_updated,
        _fetched_at as fetched_at
    from source

)

select * from renamed
