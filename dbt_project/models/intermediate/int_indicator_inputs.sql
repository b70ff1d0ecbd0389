{#-
    The harmonised measures plus the two changes the growth indicators need:
    population_change (end minus start of the year) and jobs_change (this year's jobs minus last year's).
    A change is only as good as both ends: a missing or suppressed end leaves it NULL with that symbol.
-#}
with

measures as (

    select * from {{ ref('int_ssb__measures_harmonised') }}

),

population_change as (

    select
        'population_change' as measure,
        e.municipality_code,
        e.year,
        e.table_id,
        e.is_aggregate,
        e.value - s.value as value,
        coalesce(e.status_symbol, s.status_symbol) as status_symbol,
        s.period || '..' || e.period as period,
        case when e.fetch_origin = 'live' and s.fetch_origin = 'live' then 'live' else 'snapshot' end as fetch_origin,
        e.is_series_break or s.is_series_break as is_series_break,
        coalesce(e.note, s.note) as note,
        greatest(e.vintage, s.vintage) as vintage,
        greatest(e.source_updated, s.source_updated) as source_updated,
        greatest(e.fetched_at, s.fetched_at) as fetched_at,
        'count' as measure_kind
    from measures as e
    inner join measures as s
        on s.measure = 'population_start'
        and s.municipality_code = e.municipality_code
        and s.year = e.year
    where e.measure = 'population_end'

),

jobs_change as (

    select
        'jobs_change' as measure,
        cur.municipality_code,
        cur.year,
        cur.table_id,
        cur.is_aggregate,
        cur.value - prev.value as value,
        coalesce(cur.status_symbol, prev.status_symbol) as status_symbol,
        prev.period || '..' || cur.period as period,
        case when cur.fetch_origin = 'live' and prev.fetch_origin = 'live' then 'live' else 'snapshot' end
            as fetch_origin,
        cur.is_series_break or prev.is_series_break as is_series_break,
        coalesce(cur.note, prev.note) as note,
        greatest(cur.vintage, prev.vintage) as vintage,
        greatest(cur.source_updated, prev.source_updated) as source_updated,
        greatest(cur.fetched_at, prev.fetched_at) as fetched_at,
        'count' as measure_kind
    from measures as cur
    inner join measures as prev
        on prev.measure = 'jobs'
        and prev.municipality_code = cur.municipality_code
        and prev.year = cur.year - 1
    where cur.measure = 'jobs'

)

select * from measures
union all by name
select * from population_change
union all by name
select * from jobs_change
