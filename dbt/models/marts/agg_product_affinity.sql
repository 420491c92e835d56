with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

-- A basket is the set of distinct products sold on one invoice. Cancellation invoices, stock
-- adjustments and non-product codes (postage is on most invoices and would pair with
-- everything) are not baskets or basket items.
basket_items as (

    select distinct
        invoice_no,
        stock_code

    from order_lines
    where
        is_sale
        and is_product

),

basket_totals as (

    select count(distinct invoice_no) as basket_count
    from basket_items

),

product_baskets as (

    select
        stock_code,
        count(*) as basket_count

    from basket_items

    group by stock_code

),

-- Both directions of every pair (A->B and B->A), so "customers who bought A also bought" is a
-- lookup on product_a. The self-join is on invoice_no, the distribution key of the fact.
pairs as (

    select
        basket_a.stock_code as product_a,
        basket_b.stock_code as product_b,
        count(*) as co_invoice_count

    from basket_items as basket_a

    inner join basket_items as basket_b
        on
            basket_a.invoice_no = basket_b.invoice_no
            and basket_a.stock_code <> basket_b.stock_code

    group by
        basket_a.stock_code,
        basket_b.stock_code

),

scored as (

    select
        pairs.product_a,
        pairs.product_b,
        pairs.co_invoice_count,
        product_a_baskets.basket_count as product_a_invoice_count,
        product_b_baskets.basket_count as product_b_invoice_count,
        basket_totals.basket_count as total_invoice_count,
        -- share of all baskets that hold both products
        {{ safe_divide('pairs.co_invoice_count', 'basket_totals.basket_count') }} as support,
        -- of the baskets with A, the share that also hold B
        {{ safe_divide('pairs.co_invoice_count', 'product_a_baskets.basket_count') }} as confidence,
        -- confidence relative to B's base rate: > 1 means A makes B more likely
        {{ safe_divide(
            'pairs.co_invoice_count * basket_totals.basket_count',
            'product_a_baskets.basket_count * product_b_baskets.basket_count'
        ) }} as lift

    from pairs

    inner join product_baskets as product_a_baskets
        on pairs.product_a = product_a_baskets.stock_code

    inner join product_baskets as product_b_baskets
        on pairs.product_b = product_b_baskets.stock_code

    cross join basket_totals

    where pairs.co_invoice_count >= {{ var('affinity_min_co_invoices') }}

),

final as (

    select
        *,
        row_number() over (
            partition by product_a
            order by lift desc, confidence desc, co_invoice_count desc, product_b asc
        ) as recommendation_rank

    from scored

)

select * from final
