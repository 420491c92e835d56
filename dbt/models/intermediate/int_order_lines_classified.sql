with

order_lines as (

    select * from {{ ref('stg_order_lines') }}

),

non_product_stock_codes as (

    select * from {{ ref('non_product_stock_codes') }}

),

classified as (

    select
        order_lines.event_id,
        order_lines.invoice_no,
        order_lines.invoice_line,
        order_lines.customer_id,
        order_lines.country,
        order_lines.stock_code,
        order_lines.description,
        order_lines.currency,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.ordered_at,
        cast(order_lines.ordered_at as date) as order_date,
        {{ dbt.date_trunc('hour', 'order_lines.ordered_at') }} as order_hour,
        order_lines.arrived_at_hour,
        order_lines.ingested_at,
        order_lines.run_id,

        -- What kind of line it is. Cancellation invoices ('C' prefix) undo earlier sales and are
        -- booked on the day they happen: they carry no reference to the invoice they cancel.
        -- Negative lines on normal invoices are stock write-offs (damaged, lost), not sales.
        case
            when order_lines.is_cancellation then 'cancellation'
            when order_lines.quantity < 0 then 'stock_adjustment'
            else 'sale'
        end as line_type,

        -- Postage, fees, discounts and manual lines are money, but not products.
        case
            when non_product_stock_codes.stock_code is not null then non_product_stock_codes.category
            when order_lines.stock_code like 'GIFT%' then 'voucher'
        end as non_product_category,

        order_lines.customer_id is null as is_guest,
        order_lines.is_cancellation,
        order_lines.quantity * order_lines.unit_price as line_amount

    from order_lines

    left join non_product_stock_codes
        on order_lines.stock_code = non_product_stock_codes.stock_code

),

final as (

    select
        *,
        non_product_category is null as is_product,
        line_type = 'sale' as is_sale,
        -- 0.000, not 0: PostgreSQL keeps a literal's scale, and amounts keep three decimals
        case when line_type = 'sale' then line_amount else 0.000 end as sales_amount,
        case when line_type = 'cancellation' then -line_amount else 0.000 end as cancelled_amount

    from classified

)

select * from final
