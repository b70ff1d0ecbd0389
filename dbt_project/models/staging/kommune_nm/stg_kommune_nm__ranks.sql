with source as (

    select * from {{ source('kommune_nm', 'kommune_nm_ranks') }}

),

renamed as (

    select
        municipality_code,
        municipality_name,
        year,
        county,
        total_rank,
        county_rank,
        naeringsliv_rank as business_rank,
        arbeidsmarked_rank as labour_market_rank,
        demografi_rank as demography_rank,
        kompetanse_rank as competence_rank,
        kommuneokonomi_rank as municipal_finance_rank,
        fagprove_rank as apprenticeship_rank,
        _file as file_name,
        _vintage as vintage,
        _received_at as received_at
    from source

)

select * from renamed
