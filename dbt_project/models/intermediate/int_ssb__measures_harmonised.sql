{#-
    Measures on today's municipality codes. Counts are summed over every code that flowed into
    today's code (Asker 2019 = 0220 + 0627 + 0628), so ratios computed from them later are recomputed
    from their parts. Rates cannot be summed: when several codes flowed into one, the value of the
    predecessor that carries today's name is kept and flagged as a series break. A split code's counts
    cannot be apportioned: they are left out and the successor is flagged.
-#}
with

measures as (

    select * from {{ ref('int_ssb__measures') }}
    where status_symbol is distinct from '.'

),

codes as (

    select * from {{ ref('int_region_codes_harmonised') }}

),

joined as (

    select
        measures.*,
        codes.municipality_code,
        codes.is_split,
        codes.is_aggregate,
        codes.from_name,
        codes.to_name,
        codes.contributor_count,
        codes.has_split_contributor,
        case
            when codes.contributor_count = 1 then true
            when codes.from_name = codes.to_name then true
            else false
        end as is_named_predecessor
    from measures
    inner join codes using (region_code, year)

),

counts as (

    select
        measure,
        municipality_code,
        year,
        any_value(table_id) as table_id,
        bool_or(is_aggregate) as is_aggregate,
        case
            when bool_or(value is null) filter (where not is_split) then null
            -- summed in a fixed order so reruns give bit-identical doubles
            else list_sum(list(value order by region_code) filter (where not is_split))
        end as value,
        max(status_symbol) filter (where not is_split) as status_symbol,
        string_agg(distinct period, '+' order by period) filter (where not is_split) as period,
        case when bool_and(fetch_origin = 'live') filter (where not is_split) then 'live' else 'snapshot' end
            as fetch_origin,
        bool_or(has_split_contributor) as is_series_break,
        case
            when bool_or(has_split_contributor)
                then 'excludes ' || string_agg(distinct region_code, ', ') filter (where is_split)
                    || ': split between several municipalities, its figures cannot be apportioned'
            when count(*) > 1
                then 'sum of ' || string_agg(distinct region_code, ' + ' order by region_code)
        end as note,
        max(vintage) as vintage,
        max(source_updated) as source_updated,
        max(fetched_at) as fetched_at
    from joined
    where measure_kind = 'count'
    group by measure, municipality_code, year

),

rates as (

    select
        measure,
        municipality_code,
        year,
        any_value(table_id) as table_id,
        bool_or(is_aggregate) as is_aggregate,
        max(value) filter (where is_named_predecessor) as value,
        max(status_symbol) filter (where is_named_predecessor) as status_symbol,
        max(period) filter (where is_named_predecessor) as period,
        case when bool_and(fetch_origin = 'live') filter (where is_named_predecessor) then 'live' else 'snapshot' end
            as fetch_origin,
        bool_or(contributor_count > 1 or has_split_contributor) as is_series_break,
        case
            when bool_or(contributor_count > 1 or has_split_contributor)
                then coalesce(
                    'value for the former municipality '
                        || max(region_code || ' ' || from_name) filter (where is_named_predecessor) || ' only',
                    'no predecessor carries the name ' || any_value(to_name) || ': not comparable'
                )
        end as note,
        max(vintage) as vintage,
        max(source_updated) as source_updated,
        max(fetched_at) as fetched_at
    from joined
    where measure_kind = 'rate' and not is_split
    group by measure, municipality_code, year

)

select *, 'count' as measure_kind from counts
union all
select *, 'rate' as measure_kind from rates
