-- Product revenue per day and currency is the same in agg_daily_sales and in the order-line
-- fact it is built from: the aggregate neither drops nor double-counts lines.
-- Returns the days that disagree.

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

daily_sales as (

    select * from {{ ref('agg_daily_sales') }}

),

from_fact as (

    select
        order_date,
        currency,
        sum(sales_amount - cancelled_amount) as net_revenue

    from order_lines
    where
        is_product
        and line_type in ('sale', 'cancellation')

    group by
        order_date,
        currency

),

from_aggregate as (

    select
        order_date,
        currency,
        sum(net_revenue) as net_revenue

    from daily_sales

    group by
        order_date,
        currency

)

select
    coalesce(from_fact.order_date, from_aggregate.order_date) as order_date,
    coalesce(from_fact.currency, from_aggregate.currency) as currency,
    from_fact.net_revenue as fact_net_revenue,
    from_aggregate.net_revenue as aggregate_net_revenue

from from_fact

full outer join from_aggregate
    on
        from_fact.order_date = from_aggregate.order_date
        and from_fact.currency = from_aggregate.currency

where
    from_fact.net_revenue is null
    or from_aggregate.net_revenue is null
    or from_fact.net_revenue <> from_aggregate.net_revenue
