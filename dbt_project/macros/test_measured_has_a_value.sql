{#- A measured row carries its figure. The converse (a row that is not measured has no value, never 0) is the
    publish gate's fct_missing_is_never_a_number on fct_indicator_values, and no_value_without_measured_status
    on the models the gate does not read. -#}
{% test measured_has_a_value(model, value_column='value', status_column='status') %}
    select * from {{ model }}
    where {{ status_column }} = 'measured' and {{ value_column }} is null
{% endtest %}
