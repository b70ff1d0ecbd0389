-- Suppressed, missing, pending or under-development figures never carry a number (least of all 0).
select * from {{ ref('fct_indicator_values') }}
where status <> 'measured' and value is not null
