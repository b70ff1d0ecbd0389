with source as (

    select * from {{ source('ssb', 'ssb_categories') }}

),

renamed as (

    select
        table_id,
        _vintage as vintage,
        dimension as dimension_code,
        code as category_code,
        label as category_label,
        position,
        unit_base,
        unit_decimals
    from source

)

select * from renamed
