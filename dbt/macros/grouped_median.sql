{#
    The median of `value` per group, as the body of a CTE: (group columns..., <alias>).

    Portable by construction: only row_number() and count() windows, then an average of the
    one or two middle rows, which is exactly percentile_cont(0.5). Why not percentile_cont:
    Redshift accepts it as a window only over a whole partition, and refuses two sort-based
    aggregates (PERCENTILE_CONT, MEDIAN, LISTAGG) with different ORDER BYs in one statement,
    which a model with several medians cannot avoid. DuckDB's `/` is float division, hence
    the explicit floor().
#}
{% macro grouped_median(relation, group_by, value, alias) -%}
    {%- set groups = group_by | join(', ') -%}
    select
        {{ groups }},
        avg(cast({{ value }} as double precision)) as {{ alias }}

    from (

        select
            {{ groups }},
            {{ value }},
            row_number() over (partition by {{ groups }} order by {{ value }}) as value_rank,
            count(*) over (partition by {{ groups }}) as value_count

        from {{ relation }}

    ) as ranked

    where value_rank in (floor((value_count + 1) / 2.0), floor((value_count + 2) / 2.0))

    group by {{ groups }}
{%- endmacro %}
