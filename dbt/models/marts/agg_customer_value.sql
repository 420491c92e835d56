with

invoices as (

    select * from {{ ref('fct_invoices') }}

),

-- RFM is measured as of one day: the day after the newest invoice in the data unless
-- var rfm_as_of_date pins it, so the same data always gives the same scores.
as_of as (

    {%- if var('rfm_as_of_date') %}
    select cast('{{ var("rfm_as_of_date") }}' as date) as as_of_date
    {%- else %}
    select cast({{ dbt.dateadd('day', 1, 'max(invoice_date)') }} as date) as as_of_date
    from invoices
    {%- endif %}

),

-- Guests cannot be scored: they have no identity to come back with.
customer_invoices as (

    select * from invoices
    where customer_id is not null

),

customer_activity as (

    select
        customer_id,
        max(case when invoice_type = 'order' then invoice_date end) as last_order_date,
        count(distinct case when invoice_type = 'order' then invoice_no end) as frequency,
        -- Monetary: net product revenue, cancellations subtracted; postage and fees excluded.
        sum(product_amount) as monetary,
        sum(case when invoice_type = 'cancellation' then -product_amount else 0 end) as cancelled_amount

    from customer_invoices

    group by customer_id

),

-- Customers whose only invoices in the data are cancellations (of purchases made before the
-- data starts) have no purchase to score and are left out.
purchasers as (

    select
        customer_activity.*,
        -- dbt.datediff compiles to one long line on DuckDB; the source line is short
        {{ dbt.datediff('customer_activity.last_order_date', 'as_of.as_of_date', 'day') }} as recency_days,  -- noqa: LT05
        as_of.as_of_date

    from customer_activity

    cross join as_of

    where customer_activity.frequency > 0

),

-- Scores 1-5 from each customer's mid-rank percentile: the share of customers ranked below
-- plus half the share tied with them (ties get the same score, unlike ntile, so the result
-- does not depend on row order). Mid-ranks keep a big tie group where it belongs: when most
-- customers ordered once, cume_dist alone would give them all a high frequency score (the
-- top of their group), and one-time buyers would look like regulars. 5 = most recent / most
-- frequent / highest spend. The epsilon keeps an exact boundary (e.g. 5 * 0.6) from rounding
-- up through float error.
percentiles as (

    select
        *,
        (
            cume_dist() over (order by recency_days desc)
            + (rank() over (order by recency_days desc) - 1) * 1.0 / count(*) over ()
        ) / 2 as recency_percentile,
        (
            cume_dist() over (order by frequency asc)
            + (rank() over (order by frequency asc) - 1) * 1.0 / count(*) over ()
        ) / 2 as frequency_percentile,
        (
            cume_dist() over (order by monetary asc)
            + (rank() over (order by monetary asc) - 1) * 1.0 / count(*) over ()
        ) / 2 as monetary_percentile

    from purchasers

),

scored as (

    select
        *,
        greatest(1, cast(ceil(5 * recency_percentile - 1e-9) as integer)) as recency_score,
        greatest(1, cast(ceil(5 * frequency_percentile - 1e-9) as integer)) as frequency_score,
        greatest(1, cast(ceil(5 * monetary_percentile - 1e-9) as integer)) as monetary_score

    from percentiles

),

final as (

    select
        customer_id,
        as_of_date,
        last_order_date,
        recency_days,
        frequency,
        monetary,
        cancelled_amount,
        recency_score,
        frequency_score,
        monetary_score,
        {{ dbt.concat([
            dbt.cast('recency_score', dbt.type_string()),
            dbt.cast('frequency_score', dbt.type_string()),
            dbt.cast('monetary_score', dbt.type_string()),
        ]) }} as rfm_cell,
        case
            when recency_score >= 4 and frequency_score >= 4 then 'champions'
            when recency_score >= 3 and frequency_score >= 3 then 'loyal'
            when recency_score >= 4 then 'new_or_promising'
            when frequency_score >= 4 then 'at_risk'
            when recency_score <= 2 and frequency_score <= 2 then 'hibernating'
            else 'needs_attention'
        end as rfm_segment

    from scored

)

select * from final
