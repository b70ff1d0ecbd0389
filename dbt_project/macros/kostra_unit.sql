{#-
    A key figure's unit, in Norwegian. Most rows of the Handlingsprogram's KOSTRA tables carry their unit in the
    name ("per innbygger 1-5 år", "(1000 kr)", "(kr/tilkn.innb)"); seed kostra_key_figures then says
    "as published", which is not a unit. The rules read it from the name; a name no rule knows gives null, which
    kostra_comparison's not_null test on `unit` reports, so a new key figure cannot pass without a real unit.
-#}
{% macro kostra_unit(name, unit) %}
    case
        when {{ unit }} = 'percent' then 'prosent'
        when {{ unit }} = 'percent of operating revenue' then 'prosent av brutto driftsinntekter'
        when {{ unit }} = 'kr per inhabitant' then 'kr per innbygger'
        when {{ unit }} <> 'as published' then {{ unit }}
        when {{ name }} like '%(1000 kr)%' then '1000 kr per innbygger'
        when {{ name }} like '%kr/tilkn.innb%' then 'kr per tilknyttet innbygger'
        when {{ name }} like '%Energibruk per m2%' then 'kWh per m²'
        when {{ name }} like '%Areal per bruker (m2)%' then 'm² per bruker'
        when {{ name }} like '%per kvadratmeter%' then 'kr per m²'
        when {{ name }} like '%pr. km%' then 'kr per km'
        when {{ name }} like '%per årsinnbygger%' then 'kr per årsinnbygger'
        when {{ name }} like 'Årsgebyr%' then 'kr'
        when {{ name }} like '%Husholdningsavfall per innbygger%' then 'kg per innbygger'
        when {{ name }} like '%Besøk i folkebibliotek per innbygger%' then 'besøk per innbygger'
        when regexp_matches({{ name }}, '(per|pr\.) 10 000 innbyggere') then 'årsverk per 10 000 innbyggere'
        when {{ name }} like '%per 1000 innbyggere%' then 'antall per 1 000 innbyggere'
        when {{ name }} like '%per årsverk%' then 'barn per årsverk'
        when {{ name }} like '%Årstimer%per elev%' then 'timer per elev'
        when {{ name }} like '%grunnskolepoeng%' then 'poeng'
        when {{ name }} like '%Gruppestørrelse%' then 'elever per lærer'
        when {{ name }} like '%saksbehandlingstid (dager)%' then 'dager'
        when regexp_matches({{ name }}, '(per|pr\.) mottaker') then 'kr per mottaker'
        when {{ name }} like '%per bruker%' then 'kr per bruker'
        when regexp_matches({{ name }}, '(per|pr\.) innbygger \d+-\d+ år')
            then 'kr per innbygger ' || regexp_extract({{ name }}, '(\d+-\d+ år)', 1)
        when regexp_matches({{ name }}, '(per|pr\.) innbygger \d+ år og over')
            then 'kr per innbygger ' || regexp_extract({{ name }}, '(\d+ år og over)', 1)
        when regexp_matches({{ name }}, '(per|pr\.) innbygger') then 'kr per innbygger'
        when {{ name }} like '%(antall)%' or {{ name }} like '%vedtatt%' or {{ name }} like '%Nye foretak%'
            then 'antall'
    end
{% endmacro %}
