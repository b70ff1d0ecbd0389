{#- The column holds only codes of one kind of seed vocabulary (routes, evidence grades), the list Python reads
    too (src/styringsdata/vocabulary.py), so the values are written once. NULL is not checked: not_null says so. -#}
{% test in_vocabulary(model, column_name, kind) %}
    select {{ column_name }} as code
    from {{ model }}
    where {{ column_name }} is not null
      and {{ column_name }} not in (select code from {{ ref('vocabulary') }} where kind = '{{ kind }}')
{% endtest %}
