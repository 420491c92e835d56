{#
    The grain test: no two rows share the same values in `combination_of_columns`.
    (dbt_utils has one; the project avoids package downloads so it runs offline.)
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

grouped as (

    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as row_count

    from {{ model }}

    group by {{ combination_of_columns | join(', ') }}

)

select * from grouped
where row_count > 1

{% endtest %}
