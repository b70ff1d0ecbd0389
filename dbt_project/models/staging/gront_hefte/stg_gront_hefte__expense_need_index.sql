with source as (

    select * from {{ source('gront_hefte', 'expense_need_index') }}

),

renamed as (

    select
        year,
        municipality_code,
        municipality_name,
        need_area,
        need_index,
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
