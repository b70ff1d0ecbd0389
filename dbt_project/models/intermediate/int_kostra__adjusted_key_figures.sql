{#-
    The ASSS way of comparing KOSTRA spending, per key figure x region x year, as the Handlingsprogram marks
    each row: `*)` "Inflasjonsjustert med deflator" -> deflated; `**)` "Justert for utgiftsbehov" -> need-adjusted.

    deflated_value      = value in the prices of price_base_year: value x product of (1 + deflator) over the
                          years after `year` up to the base year (divided, for years after it).
    need_adjusted_value = value x 100 / the region's expense-need index for the key figure's cost-key sector
                          (index 110 -> value / 1.10), in the year's own prices.
    adjusted_value      = the figure as the document prints it: value, deflated_value, need_adjusted_value,
                          or, for `*) **)` rows, both at once.

    The base year is the var kostra_price_base_year, by default the latest year both the KOSTRA figures and
    the deflator reach (the document shows earlier years in the latest year's prices). The ASSS average
    (ASSS_UTEN_OSLO) is the unweighted mean of the adjusted figures of the members without Oslo, only when all
    have one; the country (EAK) has the index 100 by construction; SSB's other aggregates have no index.

    The nominal figures are read like kostra_comparison reads them (the `kostra:` measures).
-#}
{%- set members = var('asss_municipalities') -%}
{%- set asss_without_oslo = members | reject('equalto', '0301') | list -%}
{%- set base_year = var('kostra_price_base_year', '') -%}

with

key_figures as (

    select
        key_figures.key_figure_id,
        key_figures.decimals,
        contains(key_figures.key_figure_name, '*)') as is_deflated,
        contains(key_figures.key_figure_name, '**)') as is_need_adjusted,
        need_areas.need_area
    from {{ ref('kostra_key_figures') }} as key_figures
    left join {{ ref('kostra_key_figure_need_areas') }} as need_areas using (key_figure_id)

),

nominal as (

    select
        substr(measure, 8) as key_figure_id,
        municipality_code as region_code,
        year,
        value
    from {{ ref('int_ssb__measures_harmonised') }}
    where measure like 'kostra:%'
        and municipality_code in (
            {%- for code in members + ['EAK', 'EAKUO', 'EKG12'] %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
        )

),

deflator as (

    select * from {{ ref('int_asss__deflator_in_use') }}

),

base as (

    select
        {% if base_year %}{{ base_year }}{% else %}least((select max(year) from nominal), (select max(year) from deflator)){% endif %}
            as price_base_year

),

years as (

    select distinct year from nominal

),

factors as (

    select
        years.year,
        base.price_base_year,
        case
            when count(deflator.year) <> abs(years.year - base.price_base_year) then null
            -- multiplied in a fixed order so reruns give bit-identical doubles
            when years.year <= base.price_base_year
                then coalesce(list_product(list(1 + deflator.deflator_percent / 100 order by deflator.year)), 1.0)
            else 1 / list_product(list(1 + deflator.deflator_percent / 100 order by deflator.year))
        end as deflator_factor,
        count(deflator.year) <> abs(years.year - base.price_base_year) as has_deflator_gap,
        coalesce(bool_or(deflator.origin = 'illustrative'), false) as has_illustrative_deflator
    from years
    cross join base
    left join deflator
        on deflator.year > least(years.year, base.price_base_year)
        and deflator.year <= greatest(years.year, base.price_base_year)
    group by years.year, base.price_base_year

),

need as (

    select * from {{ ref('int_asss__expense_need_index') }}

),

joined as (

    select
        nominal.key_figure_id,
        nominal.region_code,
        nominal.year,
        nominal.value,
        key_figures.decimals,
        case
            when key_figures.is_deflated and key_figures.is_need_adjusted then 'both'
            when key_figures.is_deflated then 'deflated'
            when key_figures.is_need_adjusted then 'need_adjusted'
            else 'none'
        end as adjustment,
        key_figures.is_deflated,
        key_figures.is_need_adjusted,
        case when key_figures.is_deflated then factors.price_base_year end as price_base_year,
        case when key_figures.is_deflated then factors.deflator_factor end as deflator_factor,
        key_figures.is_deflated and factors.has_deflator_gap as lacks_deflator,
        key_figures.is_deflated and factors.has_illustrative_deflator as uses_illustrative_deflator,
        case when key_figures.is_need_adjusted then key_figures.need_area end as need_area,
        case
            when not key_figures.is_need_adjusted then null
            when nominal.region_code = 'EAK' then 100.0
            else need.need_index
        end as need_index,
        key_figures.is_need_adjusted and coalesce(need.origin = 'illustrative', false) as uses_illustrative_need_index,
        case
            when not key_figures.is_need_adjusted then null
            when nominal.region_code = 'EAK' then 'published'
            else need.origin
        end as need_index_origin
    from nominal
    inner join key_figures using (key_figure_id)
    left join factors using (year)
    left join need
        on need.municipality_code = nominal.region_code
        and need.year = nominal.year
        and need.need_area = key_figures.need_area

),

adjusted as (

    select
        *,
        value * deflator_factor as deflated_value,
        value * 100 / need_index as need_adjusted_value,
        case adjustment
            when 'none' then value
            when 'deflated' then value * deflator_factor
            when 'need_adjusted' then value * 100 / need_index
            when 'both' then value * deflator_factor * 100 / need_index
        end as adjusted_value,
        concat_ws('; ',
            case when lacks_deflator then 'no deflator for every year between ' || year || ' and the base year' end,
            case
                when is_need_adjusted and need_index is null and region_code in ('EAKUO', 'EKG12')
                    then 'SSB aggregate: no expense-need index'
                when is_need_adjusted and need_index is null
                    then 'no expense-need index (' || need_area || ', ' || year || ')'
            end,
            case when region_code = 'EAK' and is_need_adjusted then 'country: expense-need index 100 by construction' end
        ) as adjustment_note
    from joined

),

asss_average as (

    select
        key_figure_id,
        'ASSS_UTEN_OSLO' as region_code,
        year,
        case when count(value) = {{ asss_without_oslo | length }} then list_avg(list(value order by region_code)) end
            as value,
        any_value(decimals) as decimals,
        any_value(adjustment) as adjustment,
        any_value(is_deflated) as is_deflated,
        any_value(is_need_adjusted) as is_need_adjusted,
        any_value(price_base_year) as price_base_year,
        any_value(deflator_factor) as deflator_factor,
        bool_or(lacks_deflator) as lacks_deflator,
        bool_or(uses_illustrative_deflator) as uses_illustrative_deflator,
        any_value(need_area) as need_area,
        cast(null as double) as need_index,
        bool_or(uses_illustrative_need_index) as uses_illustrative_need_index,
        case
            when bool_or(need_index_origin = 'illustrative') then 'illustrative'
            when bool_or(need_index_origin = 'published') then 'published'
        end as need_index_origin,
        case when count(deflated_value) = {{ asss_without_oslo | length }}
            then list_avg(list(deflated_value order by region_code)) end as deflated_value,
        case when count(need_adjusted_value) = {{ asss_without_oslo | length }}
            then list_avg(list(need_adjusted_value order by region_code)) end as need_adjusted_value,
        case when count(adjusted_value) = {{ asss_without_oslo | length }}
            then list_avg(list(adjusted_value order by region_code)) end as adjusted_value,
        'unweighted mean of the adjusted figures of the ' || count(adjusted_value)
            || ' of {{ asss_without_oslo | length }} ASSS members without Oslo that have one' as adjustment_note
    from adjusted
    where region_code in (
        {%- for code in asss_without_oslo %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )
    group by key_figure_id, year

),

combined as (

    select * from adjusted
    union all by name
    select * from asss_average

)

select
    key_figure_id,
    region_code,
    year,
    value,
    adjustment,
    price_base_year,
    deflator_factor,
    deflated_value,
    need_area,
    need_index,
    need_index_origin,
    need_adjusted_value,
    adjusted_value,
    round(adjusted_value, decimals) as adjusted_value_rounded,
    case
        when adjustment = 'none' then null
        when uses_illustrative_deflator or uses_illustrative_need_index then 'illustrative'
        else 'published'
    end as adjustment_origin,
    nullif(adjustment_note, '') as adjustment_note
from combined
