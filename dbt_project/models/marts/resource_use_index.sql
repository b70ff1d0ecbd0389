{#-
    Ressursbruksindikator, the ASSS macro group's measure of resource use: per member, service area and year,
    the net operating expenditure per inhabitant adjusted for expense need (each component divided by the
    member's expense-need index for its cost-key sector, x 100), against the ASSS average = 100. The ASSS
    average is the unweighted mean of the members without Oslo, as in kostra_comparison, computed only when
    all of them have the area.

    An area sums its components: the Handlingsprogram's `**)` key figures that are net operating expenditure
    per inhabitant (seed kostra_key_figure_need_areas, resource_use_component); figures per inhabitant of a
    target group (per child 1-5, per pupil 6-15, ...) are not summable and stay out, and so do key figures with
    no known source table (seed kostra_key_figures, route). The total row weights the
    areas by spending: sum of the member's need-adjusted spending over the same sum for the ASSS average, which
    is the areas' indices weighted by their share of the ASSS average's need-adjusted spending.
-#}
{%- set members = var('asss_municipalities') -%}
{%- set asss_without_oslo = members | reject('equalto', '0301') | list -%}

with

components as (

    select
        need_areas.key_figure_id,
        key_figures.service_area
    from {{ ref('kostra_key_figure_need_areas') }} as need_areas
    inner join {{ ref('kostra_key_figures') }} as key_figures using (key_figure_id)
    where need_areas.resource_use_component
        -- A component no source is known for would leave its area without an index for every member;
        -- the area is built from the components that are fetched, and `components` names them.
        and key_figures.route = 'table'

),

areas as (

    select
        service_area,
        count(*) as component_count,
        string_agg(key_figure_id, ', ' order by key_figure_id) as components
    from components
    group by service_area

),

figures as (

    select
        adjusted.region_code as municipality_code,
        adjusted.year,
        components.service_area,
        adjusted.key_figure_id,
        adjusted.value,
        adjusted.need_adjusted_value,
        adjusted.need_index_origin
    from {{ ref('int_kostra__adjusted_key_figures') }} as adjusted
    inner join components using (key_figure_id)
    where adjusted.region_code in (
        {%- for code in members %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )

),

by_area as (

    select
        figures.municipality_code,
        figures.year,
        figures.service_area,
        any_value(areas.components) as components,
        case when count(figures.value) = any_value(areas.component_count)
            then list_sum(list(figures.value order by figures.key_figure_id)) end
            as net_operating_expenditure_per_inhabitant,
        case when count(figures.need_adjusted_value) = any_value(areas.component_count)
            then list_sum(list(figures.need_adjusted_value order by figures.key_figure_id)) end
            as need_adjusted_expenditure_per_inhabitant,
        case when bool_or(figures.need_index_origin = 'illustrative') then 'illustrative' else 'published' end
            as inputs_origin,
        count(figures.need_adjusted_value) as components_present,
        any_value(areas.component_count) as component_count
    from figures
    inner join areas using (service_area)
    group by figures.municipality_code, figures.year, figures.service_area

),

asss_average as (

    select
        year,
        service_area,
        case when count(need_adjusted_expenditure_per_inhabitant) = {{ asss_without_oslo | length }}
            then list_avg(list(need_adjusted_expenditure_per_inhabitant order by municipality_code)) end
            as asss_average
    from by_area
    where municipality_code in (
        {%- for code in asss_without_oslo %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )
    group by year, service_area

),

asss_total as (

    -- summed in a fixed order so reruns give bit-identical doubles
    select year, list_sum(list(asss_average order by service_area)) as asss_total
    from asss_average
    group by year

),

area_rows as (

    select
        by_area.municipality_code,
        by_area.year,
        by_area.service_area,
        false as is_total,
        by_area.components,
        by_area.net_operating_expenditure_per_inhabitant,
        by_area.need_adjusted_expenditure_per_inhabitant,
        asss_average.asss_average as asss_average_need_adjusted,
        100 * by_area.need_adjusted_expenditure_per_inhabitant / nullif(asss_average.asss_average, 0)
            as resource_use_index,
        asss_average.asss_average / asss_total.asss_total as spending_weight,
        by_area.inputs_origin,
        concat_ws('; ',
            case when by_area.components_present < by_area.component_count
                then by_area.components_present || ' of ' || by_area.component_count
                    || ' components have a need-adjusted figure' end,
            case when asss_average.asss_average is null
                then 'no ASSS average: not every member without Oslo has the area this year' end
        ) as note
    from by_area
    left join asss_average using (year, service_area)
    left join asss_total using (year)

),

total_rows as (

    select
        municipality_code,
        year,
        'Alle tjenesteområder' as service_area,
        true as is_total,
        string_agg(components, ', ' order by service_area) as components,
        list_sum(list(net_operating_expenditure_per_inhabitant order by service_area))
            as net_operating_expenditure_per_inhabitant,
        case when count(resource_use_index) = (select count(*) from areas)
            then list_sum(list(need_adjusted_expenditure_per_inhabitant order by service_area)) end
            as need_adjusted_expenditure_per_inhabitant,
        case when count(asss_average_need_adjusted) = (select count(*) from areas)
            then list_sum(list(asss_average_need_adjusted order by service_area)) end
            as asss_average_need_adjusted,
        case when count(resource_use_index) = (select count(*) from areas)
            then 100 * list_sum(list(need_adjusted_expenditure_per_inhabitant order by service_area))
                / list_sum(list(asss_average_need_adjusted order by service_area)) end
            as resource_use_index,
        1.0 as spending_weight,
        case when bool_or(inputs_origin = 'illustrative') then 'illustrative' else 'published' end as inputs_origin,
        case when count(resource_use_index) < (select count(*) from areas)
            then 'total needs every area: ' || count(resource_use_index) || ' of ' || (select count(*) from areas)
                || ' have an index' end as note
    from area_rows
    group by municipality_code, year

),

combined as (

    select * from area_rows
    union all by name
    select * from total_rows

)

select
    municipality_code,
    municipality_code = '{{ var("home_municipality") }}' as is_home_municipality,
    municipality_code in (
        {%- for code in asss_without_oslo %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ) as in_asss_average,
    service_area,
    is_total,
    year,
    components,
    net_operating_expenditure_per_inhabitant,
    need_adjusted_expenditure_per_inhabitant,
    asss_average_need_adjusted,
    resource_use_index,
    round(resource_use_index, 1) as resource_use_index_rounded,
    spending_weight,
    inputs_origin,
    nullif(note, '') as note
from combined
