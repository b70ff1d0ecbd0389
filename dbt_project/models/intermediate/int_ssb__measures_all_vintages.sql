{#-
    Every SSB figure an indicator or a key figure needs, as one long list of named measures, every
    vintage. Seed ssb_series (written from src/styringsdata/sources/ssb_tables.yaml by tools/derive.py) says which series of
    which table is which measure; a key figure becomes the measure 'kostra:<key figure id>'. measure_kind says how
    a measure may be combined across merged municipalities: counts can be summed, rates cannot.
-#}
with

cells as (

    select * from {{ ref('stg_ssb__series_values') }}

),

series as (

    select * from {{ ref('ssb_series') }}

),

named as (

    select series.measure, series.measure_kind, series.period_suffix, cells.*
    from cells
    inner join series using (table_id, series_key)
    where series.measure is not null

    union all by name

    select 'kostra:' || series.key_figure_id as measure, series.measure_kind, series.period_suffix, cells.*
    from cells
    inner join series using (table_id, series_key)
    where series.key_figure_id is not null

)

select
    table_id,
    measure,
    measure_kind,
    region_code,
    year,
    period,
    value,
    status_symbol,
    fetch_origin,
    vintage,
    source_updated,
    fetched_at
from named
-- a measure taken from one quarter of the year (01222: K1 opening, K4 closing population)
where period_suffix is null or ends_with(period, period_suffix)
