with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

-- Product sales and cancellations only: postage, fees and the like are not product sales, and
-- stock write-offs are not sales at all (both stay in fct_order_lines / fct_invoices).
product_lines as (

    select * from order_lines
    where
        is_product
        and line_type in ('sale', 'cancellation')

),

daily as (

    select
        order_date,
        country,
        stock_code,
        currency,
        sum(case when is_sale then quantity else 0 end) as sold_quantity,
        sum(case when is_cancellation then -quantity else 0 end) as cancelled_quantity,
        sum(sales_amount) as gross_revenue,
        sum(cancelled_amount) as cancelled_revenue,
        count(distinct case when is_sale then invoice_no end) as order_count,
        count(distinct case when is_sale then customer_id end) as customer_count,
        count(case when is_sale and is_guest then 1 end) as guest_line_count

    from product_lines

    group by
        order_date,
        country,
        stock_code,
        currency

),

final as (

    select
        order_date,
        country,
        stock_code,
        currency,
        sold_quantity,
        cancelled_quantity,
        sold_quantity - cancelled_quantity as net_quantity,
        gross_revenue,
        cancelled_revenue,
        gross_revenue - cancelled_revenue as net_revenue,
        order_count,
        customer_count,
        guest_line_count

    from daily

)

select * from final
