-- "as published" is not a unit: every key figure's unit is read from its name (macro kostra_unit).
select key_figure_id, unit
from {{ ref('kostra_comparison') }}
where unit = 'as published'
