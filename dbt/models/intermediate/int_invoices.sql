with

order_lines as (

    select * from {{ ref('int_order_lines_classified') }}

),

invoices as (

    select
        invoice_no,
        max(customer_id) as customer_id,
        max(country) as country,
        max(currency) as currency,
        min(ordered_at) as invoiced_at,
        min(order_date) as invoice_date,
        min(order_hour) as invoice_hour,
        {{ dbt.bool_or('is_cancellation') }} as is_cancellation,
        count(*) as line_count,
        count(case when is_sale then 1 end) as sale_line_count,
        count(case when is_product then 1 end) as product_line_count,
        count(distinct case when is_product then stock_code end) as distinct_product_count,
        sum(case when is_product then quantity else 0 end) as product_quantity,
        sum(case when is_product and line_type <> 'stock_adjustment' then line_amount else 0 end) as product_amount,
        sum(case when not is_product then line_amount else 0 end) as non_product_amount,
        sum(line_amount) as invoice_amount

    from order_lines

    group by invoice_no

),

final as (

    select
        *,
        -- An order sells something; an invoice with only write-off lines is an adjustment.
        case
            when is_cancellation then 'cancellation'
            when sale_line_count > 0 then 'order'
            else 'adjustment'
        end as invoice_type,
        customer_id is null as is_guest

    from invoices

)

select * from final
