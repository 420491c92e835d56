{#
    Every row satisfies `expression` (a SQL boolean over the model's columns).
    Rows where the expression is null fail too: a rule that cannot be evaluated is not met.
#}
{% test expression_is_true(model, expression) %}

select * from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
