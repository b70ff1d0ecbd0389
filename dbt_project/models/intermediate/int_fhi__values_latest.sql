{#-
    FHI figures at each table's latest vintage (FHI recomputes whole series), on today's municipality codes.
    FHI publishes historical codes; like SSB's rates they cannot be summed over merged municipalities, so the
    predecessor that carries today's name gives the figure and the row is flagged as a series break.
    A symbol in place of a number ("k" suppressed, ":" confidential) is a status, never a 0.
-#}
with

values_all as (

    select * from {{ ref('stg_fhi__values') }}

),

latest as (

    select *
    from values_all
    where vintage = (select max(v.vintage) from values_all as v where v.table_id = values_all.table_id)

),

codes as (

    select * from {{ ref('int_region_codes_harmonised') }}

),

joined as (

    select
        latest.*,
        codes.municipality_code,
        codes.is_split,
        codes.from_name,
        codes.to_name,
        codes.contributor_count,
        codes.has_split_contributor,
        codes.contributor_count = 1 or codes.from_name = codes.to_name as is_named_predecessor
    from latest
    inner join codes using (region_code, year)
    where not codes.is_split

),

harmonised as (

    select
        indicator_id,
        municipality_code,
        year,
        max(value) filter (where is_named_predecessor) as value,
        max(status_symbol) filter (where is_named_predecessor) as status_symbol,
        max(period) filter (where is_named_predecessor) as period,
        bool_or(contributor_count > 1 or has_split_contributor) as is_series_break,
        case
            when bool_or(contributor_count > 1 or has_split_contributor)
                then coalesce(
                    'value for the former municipality '
                        || max(region_code || ' ' || from_name) filter (where is_named_predecessor) || ' only',
                    'no predecessor carries the name ' || any_value(to_name) || ': not comparable'
                )
        end as note,
        case when bool_and(fetch_origin = 'live') filter (where is_named_predecessor) then 'live' else 'snapshot' end
            as fetch_origin,
        any_value(table_id) as table_id,
        max(vintage) as vintage,
        max(source_updated) as source_updated,
        max(fetched_at) as fetched_at
    from joined
    group by indicator_id, municipality_code, year

)

select
    indicator_id,
    municipality_code,
    year,
    value,
    case
        when value is not null then 'measured'
        when status_symbol in ('k', ':') then 'suppressed'
        else 'not_measured'
    end as status,
    status_symbol,
    is_series_break,
    note,
    table_id,
    period,
    fetch_origin,
    vintage,
    source_updated,
    fetched_at
from harmonised
