{#- A key figure the document marks `**)` (Justert for utgiftsbehov) cannot be adjusted without its cost-key sector. -#}
select key_figure_id, key_figure_name
from {{ ref('kostra_key_figures') }}
where contains(key_figure_name, '**)')
    and key_figure_id not in (select key_figure_id from {{ ref('kostra_key_figure_need_areas') }})
union all
select need_areas.key_figure_id, key_figures.key_figure_name
from {{ ref('kostra_key_figure_need_areas') }} as need_areas
inner join {{ ref('kostra_key_figures') }} as key_figures using (key_figure_id)
where not contains(key_figures.key_figure_name, '**)')
