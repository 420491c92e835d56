{#
    timestamptz -> timestamp (no time zone) holding the UTC wall-clock time. Iceberg `timestamptz`
    arrives as TIMESTAMPTZ in DuckDB, PostgreSQL and Redshift Spectrum, and `at time zone 'UTC'`
    means the same on all three; converting once in staging makes every date and hour bucket
    downstream independent of the session time zone.
#}
{% macro to_utc_timestamp(column_name) -%}
    ({{ column_name }} at time zone 'UTC')
{%- endmacro %}
