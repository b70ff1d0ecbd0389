with source as (

    select * from {{ source('klass', 'klass_municipality_lineage') }}

),

latest as (

    {{ latest_vintage('source', '_vintage') }}

),

renamed as (

    select
        from_code,
        from_name,
        to_code,
        to_name,
        changed_on,
        successor_count,
        successor_count > 1 as is_split,
        _vintage as vintage,
        _fetched_at as fetched_at
    from latest

)

select * from renamed
