{#- Suppressed or missing is never stored as a number, least of all 0. -#}
{% test no_value_without_measured_status(model, value_column='value', status_column='status') %}
    select * from {{ model }}
    where ({{ status_column }} <> 'measured' and {{ value_column }} is not null)
       or ({{ status_column }} = 'measured' and {{ value_column }} is null)
{% endtest %}
