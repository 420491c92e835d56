with

invoices as (

    select * from {{ ref('int_invoices') }}

),

final as (

    -- the same columns, in the same order, as before the rollup moved to int_invoices
    select
        invoice_no,
        customer_id,
        country,
        currency,
        invoiced_at,
        invoice_date,
        invoice_hour,
        is_cancellation,
        line_count,
        sale_line_count,
        product_line_count,
        distinct_product_count,
        product_quantity,
        product_amount,
        non_product_amount,
        invoice_amount,
        invoice_type,
        is_guest

    from invoices

)

select * from final
