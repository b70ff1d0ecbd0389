-- The Handlingsprogram's KOSTRA tables from the published warehouse (README: "KOSTRA comparison").
select
    service_area,
    section,
    display_order,
    key_figure_name,
    max(value_rounded) filter (where region_code = '3203' and year = 2021) as "Asker 2021",
    max(value_rounded) filter (where region_code = '3203' and year = 2022) as "Asker 2022",
    max(value_rounded) filter (where region_code = '3201' and year = 2022) as "Bærum",
    max(value_rounded) filter (where region_code = '3301' and year = 2022) as "Drammen",
    max(value_rounded) filter (where region_code = '3205' and year = 2022) as "Lillestrøm",
    max(value_rounded) filter (where region_code = 'ASSS_UTEN_OSLO' and year = 2022) as "ASSS uten Oslo",
    max(value_rounded) filter (where region_code = 'EKG12' and year = 2022) as "Kostragruppe 12"
from kostra_comparison
group by all
order by service_area, display_order
