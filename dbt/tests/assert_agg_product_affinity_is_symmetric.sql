-- Co-purchase is symmetric: if A was bought with B on n invoices, B was bought with A on n
-- invoices, and support and lift are the same both ways (confidence is not).
-- Returns pairs whose mirror is missing or differs.

with

affinity as (

    select * from {{ ref('agg_product_affinity') }}

)

select
    affinity.product_a,
    affinity.product_b,
    affinity.co_invoice_count,
    mirror.co_invoice_count as mirror_co_invoice_count

from affinity

left join affinity as mirror
    on
        affinity.product_a = mirror.product_b
        and affinity.product_b = mirror.product_a

where
    mirror.product_a is null
    or affinity.co_invoice_count <> mirror.co_invoice_count
    or abs(affinity.lift - mirror.lift) > 1e-9
