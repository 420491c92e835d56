{#
    Layer schemas keep their plain names (`staging`, `intermediate`, `marts`, `seeds`) on every
    target, so QuickSight datasets and ad-hoc queries read `marts.agg_daily_sales` everywhere.
    Isolation between people or environments comes from the database (one DuckDB file each
    locally, one Redshift database per environment), not from schema prefixes.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
