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
    (ASSS_UTEN_OSLO) is made of the adjusted figures of the members without Oslo valid that year
    (int_peer_groups__members_by_year), only when all have one, as KS makes group figures: sum(A')/sum(B) with
    A' = the adjusted figure x B, B the key figure's denominator (its A/B parts, or seed kostra_key_figure_weights);
    an unweighted mean only for a key figure with no known denominator, and the note says which. The country
    (EAK) has the index 100 by construction; SSB's other aggregates have no index.

    The nominal figures are read like kostra_comparison reads them (the `kostra:` measures).
-#}
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
        key_figure_id,
        municipality_code as region_code,
        year,
        value,
        coalesce(denominator, weight) as weight,
        denominator is not null or weight_basis is not null as has_denominator
    from {{ ref('int_kostra__member_figures') }}
    where municipality_code in ('EAK', 'EAKUO', 'EKG12')
        or municipality_code in (
            select municipality_code from {{ ref('int_peer_groups__members_by_year') }} where peer_group = 'ASSS'
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
        nominal.weight,
        nominal.has_denominator,
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

asss_members as (

    select year, municipality_code as region_code, member_count
    from {{ ref('int_peer_groups__members_by_year') }}
    where peer_group = 'ASSS_UTEN_OSLO'

),

asss_average as (

    select
        adjusted.key_figure_id,
        'ASSS_UTEN_OSLO' as region_code,
        adjusted.year,
        {% for column in ['value', 'deflated_value', 'need_adjusted_value', 'adjusted_value'] %}
        case
            when count({{ column }}) < any_value(asss_members.member_count) then null
            when bool_and(has_denominator) and count(weight) filter (where {{ column }} is not null)
                = any_value(asss_members.member_count)
                -- summed in a fixed order so reruns give bit-identical doubles
                then list_sum(list({{ column }} * weight order by adjusted.region_code))
                    / list_sum(list(weight order by adjusted.region_code))
            when not bool_or(has_denominator) then list_avg(list({{ column }} order by adjusted.region_code))
        end as {{ column }},
        {% endfor %}
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
        case
            when bool_or(has_denominator) then 'sum(A)/sum(B) of the adjusted figures'
            else 'unweighted mean of the adjusted figures (no known denominator)'
        end || ' of the ' || count(adjusted_value) || ' of ' || any_value(asss_members.member_count)
            || ' ASSS members without Oslo in ' || adjusted.year || ' that have one' as adjustment_note
    from adjusted
    inner join asss_members using (year, region_code)
    group by adjusted.key_figure_id, adjusted.year

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
