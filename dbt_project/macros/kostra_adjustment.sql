{#-
    How the Handlingsprogram adjusts a key figure, read from the marks in its printed name:
    `*)` "Inflasjonsjustert med deflator", `**)` "Justert for utgiftsbehov" (always printed with `*)`).
    One rule for the adjusted figures and for the rows that have no figure to adjust.
-#}
{% macro kostra_adjustment(key_figure_name) -%}
    case
        when contains({{ key_figure_name }}, '**)') then 'both'
        when contains({{ key_figure_name }}, '*)') then 'deflated'
        else 'none'
    end
{%- endmacro %}
