-- The incremental fact holds exactly the lines of staging: no day lost or duplicated by
-- delete+insert. Returns days whose line count or amount differs.

with

staged as (

    select
        cast(ordered_at as date) as order_date,
        count(*) as line_count,
        sum(quantity * unit_price) as line_amount

    from {{ ref('stg_order_lines') }}

    group by cast(ordered_at as date)

),

fact as (

    select
        order_date,
        count(*) as line_count,
        sum(line_amount) as line_amount

    from {{ ref('fct_order_lines') }}

    group by order_date

)

select
    coalesce(staged.order_date, fact.order_date) as order_date,
    staged.line_count as staged_line_count,
    fact.line_count as fact_line_count

from staged

full outer join fact
    on staged.order_date = fact.order_date

where
    staged.line_count is null
    or fact.line_count is null
    or staged.line_count <> fact.line_count
    or staged.line_amount <> fact.line_amount
