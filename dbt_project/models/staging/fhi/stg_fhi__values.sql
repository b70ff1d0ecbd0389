with source as (

    select * from {{ source('fhi', 'fhi_values') }}

),

renamed as (

    select
        table_id,
        indicator_id,
        "GEO" as region_code,
        "AAR" as period,
        period_start,
        period_end,
        year(period_end) as year,
        "MEASURE_TYPE" as measure_code,
        dimensions,
        value,
        nullif(status, '') as status_symbol,
        _origin as fetch_origin,
        _vintage as vintage,
        _source_updated as source_updated,
        _fetched_at as fetched_at
    from source

)

select * from renamed
