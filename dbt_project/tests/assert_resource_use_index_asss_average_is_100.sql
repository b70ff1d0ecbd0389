{#- The ressursbruksindikator's ASSS average is 100 by definition, for every area, the total and every year. -#}
select service_area, year, avg(resource_use_index) as asss_average_index, count(*) as members
from {{ ref('resource_use_index') }}
where in_asss_average and resource_use_index is not null
group by service_area, year
having abs(avg(resource_use_index) - 100) > 1e-9
    or count(*) <> {{ asss_municipalities() | reject('equalto', '0301') | list | length }}
