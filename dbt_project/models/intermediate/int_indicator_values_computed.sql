{#-
    Each SSB-sourced indicator from its route: add_constant + multiplier * sum(numerator measures) /
    sum(denominator measures) (HEL12, the share of 80+ living at home, is 100 - 1 * the institution share). A NULL input never turns into 0: the indicator is then NULL with a status saying why.
-#}
with

routes as (

    select * from {{ ref('ssb_indicator_routes') }}

),

route_measures as (

    select indicator_id, 'numerator' as part, unnest(string_split(numerator_measures, '|')) as measure
    from routes
    union all
    select indicator_id, 'denominator' as part, unnest(string_split(denominator_measures, '|')) as measure
    from routes
    where denominator_measures is not null and denominator_measures <> ''

),

expected as (

    select indicator_id, part, count(*) as measures_expected
    from route_measures
    group by indicator_id, part

),

inputs as (

    select * from {{ ref('int_indicator_inputs') }}

),

parts as (

    select
        route_measures.indicator_id,
        route_measures.part,
        inputs.municipality_code,
        inputs.year,
        count(*) as measures_found,
        list_sum(list(inputs.value order by inputs.measure)) as total,
        bool_or(inputs.value is null) as has_null,
        -- ':' (suppressed) outranks '..' (missing) when both occur
        case when bool_or(inputs.status_symbol = ':') then ':' else max(inputs.status_symbol) end as status_symbol,
        bool_or(inputs.is_series_break) as is_series_break,
        string_agg(distinct inputs.note, '; ' order by inputs.note) as note,
        string_agg(distinct inputs.period, '+' order by inputs.period) as period,
        bool_and(inputs.fetch_origin = 'live') as is_live,
        bool_or(inputs.is_aggregate) as is_aggregate,
        string_agg(distinct inputs.table_id || ':' || inputs.vintage, '+' order by inputs.table_id || ':' || inputs.vintage) as vintage,
        max(inputs.source_updated) as source_updated,
        max(inputs.fetched_at) as fetched_at
    from route_measures
    inner join inputs on inputs.measure = route_measures.measure
    group by route_measures.indicator_id, route_measures.part, inputs.municipality_code, inputs.year

),

numerators as (

    select parts.*, expected.measures_expected
    from parts
    inner join expected using (indicator_id, part)
    where part = 'numerator'

),

denominators as (

    select parts.*, expected.measures_expected
    from parts
    inner join expected using (indicator_id, part)
    where part = 'denominator'

),

combined as (

    select
        n.indicator_id,
        n.municipality_code,
        n.year,
        routes.multiplier,
        coalesce(routes.add_constant, 0) as add_constant,
        routes.denominator_measures is not null and routes.denominator_measures <> '' as has_denominator,
        n.measures_found = n.measures_expected and not n.has_null as numerator_complete,
        d.indicator_id is not null and d.measures_found = d.measures_expected and not d.has_null as denominator_complete,
        n.total as numerator,
        d.total as denominator,
        coalesce(n.status_symbol, d.status_symbol) as status_symbol,
        coalesce(n.is_series_break, false) or coalesce(d.is_series_break, false) as is_series_break,
        array_to_string(list_distinct(list_filter([n.note, d.note], lambda x: x is not null)), '; ') as note,
        array_to_string(list_sort(list_distinct(list_filter(
            string_split(concat_ws('+', n.period, d.period), '+'), lambda x: x <> ''))), '+') as period,
        n.is_live and coalesce(d.is_live, true) as is_live,
        n.is_aggregate,
        array_to_string(list_sort(list_distinct(string_split(concat_ws('+', n.vintage, d.vintage), '+'))), '+')
            as vintage,
        greatest(n.source_updated, d.source_updated) as source_updated,
        greatest(n.fetched_at, d.fetched_at) as fetched_at
    from numerators as n
    inner join routes using (indicator_id)
    left join denominators as d
        on d.indicator_id = n.indicator_id
        and d.municipality_code = n.municipality_code
        and d.year = n.year

),

computed as (

    select
        *,
        case
            when not numerator_complete then null
            when not has_denominator then add_constant + multiplier * numerator
            when not denominator_complete then null
            when denominator = 0 then null
            else add_constant + multiplier * numerator / denominator
        end as value
    from combined

),

final as (

    select
        indicator_id,
        municipality_code,
        year,
        value,
        case
            when value is not null then 'measured'
            when status_symbol = ':' then 'suppressed'
            when status_symbol is not null then 'not_measured'
            when has_denominator and denominator_complete and denominator = 0 then 'not_computable'
            when is_series_break then 'series_break'
            else 'not_measured'
        end as status,
        status_symbol,
        is_series_break,
        nullif(note, '') as note,
        nullif(period, '') as period,
        case when is_live then 'live' else 'snapshot' end as fetch_origin,
        is_aggregate,
        vintage,
        source_updated,
        fetched_at
    from computed

)

select * from final
