with

invoices as (

    select * from {{ ref('fct_invoices') }}

),

calendar as (

    select * from {{ ref('dim_date') }}

),

hours_of_day as (

    {{ dbt.generate_series(24) }}

),

data_bounds as (

    select
        min(invoice_hour) as first_hour,
        max(invoice_hour) as last_hour

    from invoices

),

-- Every hour between the first and the last invoice, with or without transactions: a rate
-- signal needs its zeros, or a quiet hour looks like missing data.
hour_spine as (

    select
        {{ dbt.dateadd('hour', 'hours_of_day.generated_number - 1', 'cast(calendar.date_day as timestamp)') }}
            as transaction_hour

    from calendar

    cross join hours_of_day

    cross join data_bounds

    where
        calendar.date_day >= cast(data_bounds.first_hour as date)
        and calendar.date_day <= cast(data_bounds.last_hour as date)

),

hourly as (

    select
        invoice_hour as transaction_hour,
        count(case when invoice_type = 'order' then 1 end) as order_count,
        count(case when invoice_type = 'cancellation' then 1 end) as cancellation_count,
        sum(case when invoice_type = 'order' then line_count else 0 end) as order_line_count,
        count(distinct case when invoice_type = 'order' then customer_id end) as customer_count,
        count(case when invoice_type = 'order' and is_guest then 1 end) as guest_order_count,
        sum(product_amount) as net_product_amount

    from invoices

    group by invoice_hour

),

filled as (

    select
        hour_spine.transaction_hour,
        coalesce(hourly.order_count, 0) as order_count,
        coalesce(hourly.cancellation_count, 0) as cancellation_count,
        coalesce(hourly.order_line_count, 0) as order_line_count,
        coalesce(hourly.customer_count, 0) as customer_count,
        coalesce(hourly.guest_order_count, 0) as guest_order_count,
        coalesce(hourly.net_product_amount, 0) as net_product_amount

    from hour_spine

    cross join data_bounds

    left join hourly
        on hour_spine.transaction_hour = hourly.transaction_hour

    where
        hour_spine.transaction_hour >= data_bounds.first_hour
        and hour_spine.transaction_hour <= data_bounds.last_hour

),

final as (

    select
        transaction_hour,
        cast(transaction_hour as date) as transaction_date,
        order_count,
        cancellation_count,
        order_line_count,
        customer_count,
        guest_order_count,
        net_product_amount,
        sum(order_count) over (
            order by transaction_hour
            rows between 23 preceding and current row
        ) as trailing_24h_order_count

    from filled

)

select * from final
