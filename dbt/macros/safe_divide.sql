{#
    Floating-point division that yields null instead of failing on a zero denominator.
    The cast matters: Redshift and PostgreSQL truncate integer / integer, DuckDB does not.
#}
{% macro safe_divide(numerator, denominator) -%}
    cast(({{ numerator }}) as double precision) / nullif(({{ denominator }}), 0)
{%- endmacro %}
