with source as (

    select * from {{ source('pipeline', 'source_attempts') }}

),

renamed as (

    select
        source,
        source_table,
        run_id,
        attempted_at,
        answered,
        error_class,
        message as error_message,
        advice
    from source

)

select * from renamed
