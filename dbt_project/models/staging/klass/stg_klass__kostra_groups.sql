with source as (

    select * from {{ source('klass', 'klass_kostra_groups') }}

),

latest as (

    {{ latest_vintage('source', '_vintage') }}

),

renamed as (

    select
        year,
        group_code,
        group_name,
        municipality_code,
        municipality_name,
        _vintage as vintage,
        _fetched_at as fetched_at
    from latest

)

select * from renamed
