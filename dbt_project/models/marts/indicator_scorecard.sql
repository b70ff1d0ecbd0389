{#-
    The scorecard of every ASSS member: per member and indicator the latest measured value, the one before,
    the change, whether the member's own target is met (seed member_indicator_texts; none where it set none), a direction-aware trend, and whether the figure is
    late for its frequency (judged against as_of_date; a yearly figure is expected for last year, or the
    year before when the appendix notes a lag: "Etterslep"). is_home_municipality picks the default view.
-#}
with

catalogue as (

    select * from {{ ref('indicator_catalogue') }}

),

members as (

    select unnest([
        {%- for code in asss_municipalities() %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ]) as municipality_code

),

facts as (

    select * from {{ ref('fct_indicator_values') }}
    where municipality_code in (select municipality_code from members)

),

measured as (

    select
        municipality_code,
        indicator_id,
        year,
        value,
        row_number() over (partition by municipality_code, indicator_id order by year desc) as recency
    from facts
    where status = 'measured'

),

delivery as (

    -- A registry indicator of a member that never delivered a registry file is not late: it never came.
    select municipality_code, indicator_id, bool_and(status = 'not_delivered') as is_not_delivered,
           max(municipality_name) as municipality_name
    from facts
    group by municipality_code, indicator_id

),

latest as (

    select
        members.municipality_code,
        catalogue.indicator_id,
        max(measured.year) filter (where measured.recency = 1) as latest_year,
        max(measured.value) filter (where measured.recency = 1) as latest_value,
        max(measured.year) filter (where measured.recency = 2) as previous_year,
        max(measured.value) filter (where measured.recency = 2) as previous_value
    from catalogue
    cross join members
    left join measured
        on measured.indicator_id = catalogue.indicator_id
        and measured.municipality_code = members.municipality_code
    group by members.municipality_code, catalogue.indicator_id

),

target as (

    -- a target is the member's own (seed member_indicator_texts): no member is judged by another's
    select
        municipality_code,
        indicator_id,
        nullif(target_rule, '') as target_rule,
        case when target_rule like '>%' then '>' when target_rule like '<%' then '<' end as target_operator,
        cast(replace(nullif(regexp_extract(target_rule, '[<>]\s*([\d,]+)', 1), ''), ',', '.') as double)
            as target_threshold
    from {{ ref('member_indicator_texts') }}

),

final as (

    select
        latest.municipality_code,
        delivery.municipality_name,
        latest.municipality_code = '{{ var("home_municipality") }}' as is_home_municipality,
        catalogue.indicator_id,
        catalogue.focus_area,
        catalogue.sub_goal,
        catalogue.indicator_name,
        catalogue.unit,
        catalogue.direction,
        catalogue.frequency,
        target.target_rule,
        latest.latest_year,
        latest.latest_value,
        latest.previous_year,
        latest.previous_value,
        latest.latest_value - latest.previous_value as change,
        case
            when target.target_operator is null or latest.latest_value is null then null
            when target.target_operator = '>' then latest.latest_value > target.target_threshold
            else latest.latest_value < target.target_threshold
        end as target_met,
        case
            when latest.previous_value is null then 'no_previous_value'
            when catalogue.direction = 'neutral' then 'no_direction'
            when latest.latest_value = latest.previous_value then 'unchanged'
            when (latest.latest_value > latest.previous_value) = (catalogue.direction = 'higher') then 'improving'
            else 'worsening'
        end as trend,
        case catalogue.frequency
            when 'yearly' then 1 when 'every_2_years' then 2 when 'every_3_years' then 3
            when 'every_4_years' then 4
        end
            + case when lower(catalogue.notes) like '%etterslep%' then 1 else 0 end as expected_lag_years,
        year({{ as_of_date() }}) - expected_lag_years as expected_latest_year,
        case
            when latest.latest_value is not null then 'measured'
            when coalesce(delivery.is_not_delivered, false) then 'not_delivered'
            else 'no_figure'
        end as status,
        case
            when expected_lag_years is null then null  -- sporadic or unknown frequency: never late
            when latest.latest_year is null and coalesce(delivery.is_not_delivered, false) then null
            when latest.latest_year is null then true
            else latest.latest_year < expected_latest_year
        end as is_late
    from catalogue
    inner join latest using (indicator_id)
    left join target
        on target.municipality_code = latest.municipality_code
        and target.indicator_id = latest.indicator_id
    left join delivery
        on delivery.municipality_code = latest.municipality_code
        and delivery.indicator_id = latest.indicator_id

)

select * from final
