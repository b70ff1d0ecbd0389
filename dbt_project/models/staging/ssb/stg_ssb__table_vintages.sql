with source as (

    select * from {{ source('ssb', 'ssb_tables') }}

),

renamed as (

    select
        table_id,
        _vintage as vintage,
        label as table_label,
        source_updated,
        first_period,
        last_period,
        _fetched_at as fetched_at,
        _landing_path as landing_path,
        rows as cell_count,
        data_requests
    from source

)

select * from renamed
