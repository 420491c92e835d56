with

order_lines as (

    select * from {{ ref('int_order_lines_classified') }}

),

-- The same stock code is entered with varying descriptions, and write-off lines carry notes
-- such as 'damaged' instead; the latest description on a sale line names it, else the latest any.
latest_description as (

    select
        stock_code,
        description,
        row_number() over (
            partition by stock_code
            order by case when is_sale then 0 else 1 end, ordered_at desc, event_id desc
        ) as recency_rank

    from order_lines
    where description is not null

),

products as (

    select
        stock_code,
        {{ dbt.bool_or('is_product') }} as is_product,
        max(non_product_category) as non_product_category,
        min(order_date) as first_seen_date,
        max(order_date) as last_seen_date,
        max(case when is_sale then unit_price end) as max_sale_unit_price

    from order_lines

    group by stock_code

),

final as (

    select
        products.stock_code,
        coalesce(latest_description.description, products.stock_code) as description,
        products.is_product,
        products.non_product_category,
        products.first_seen_date,
        products.last_seen_date,
        products.max_sale_unit_price

    from products

    left join latest_description
        on
            products.stock_code = latest_description.stock_code
            and latest_description.recency_rank = 1

)

select * from final
