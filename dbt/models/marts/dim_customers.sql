with

invoices as (

    select * from {{ ref('int_invoices') }}

),

known_customer_invoices as (

    select * from invoices
    where customer_id is not null

),

-- A few customers order from more than one country; the dimension keeps the latest.
latest_country as (

    select
        customer_id,
        country,
        row_number() over (
            partition by customer_id
            order by invoiced_at desc, invoice_no desc
        ) as recency_rank

    from known_customer_invoices

),

customer_orders as (

    select
        customer_id,
        min(invoice_date) as first_invoice_date,
        max(invoice_date) as last_invoice_date,
        min(case when invoice_type = 'order' then invoice_date end) as first_order_date,
        max(case when invoice_type = 'order' then invoice_date end) as last_order_date,
        count(case when invoice_type = 'order' then 1 end) as order_count,
        count(case when invoice_type = 'cancellation' then 1 end) as cancellation_count

    from known_customer_invoices

    group by customer_id

),

final as (

    select
        customer_orders.customer_id,
        latest_country.country,
        customer_orders.first_invoice_date,
        customer_orders.last_invoice_date,
        customer_orders.first_order_date,
        customer_orders.last_order_date,
        customer_orders.order_count,
        customer_orders.cancellation_count

    from customer_orders

    inner join latest_country
        on
            customer_orders.customer_id = latest_country.customer_id
            and latest_country.recency_rank = 1

)

select * from final
