{#-
    The hourly series the rate alarm reads: orders and net revenue per Firehose arrival hour,
    one row for every hour (an hour without a single object is a row of zeros, not a gap).
-#}
{%- set pending_hours = var('rate_alarm_pending_hours') | int -%}

with

order_lines as (

    select * from {{ ref('int_order_lines_classified') }}

),

calendar as (

    select * from {{ ref('dim_date') }}

),

hours_of_day as (

    {{ dbt.generate_series(24) }}

),

-- An invoice counts once, in the arrival hour of its first line (as agg_hourly_transactions
-- counts it in the event hour of its first line); an order sells at least one line.
invoices as (

    select
        invoice_no,
        min(arrived_at_hour) as arrival_hour,
        {{ dbt.bool_or('is_cancellation') }} as is_cancellation,
        count(case when line_type = 'sale' then 1 end) as sale_line_count

    from order_lines

    group by invoice_no

),

hourly_orders as (

    select
        arrival_hour,
        count(*) as order_count

    from invoices

    where not is_cancellation and sale_line_count > 0

    group by arrival_hour

),

hourly_revenue as (

    select
        arrived_at_hour as arrival_hour,
        sum(
            case when is_product and line_type <> 'stock_adjustment' then line_amount else 0 end
        ) as net_revenue

    from order_lines

    group by arrived_at_hour

),

data_bounds as (

    select
        min(arrived_at_hour) as first_hour,
        max(arrived_at_hour) as last_hour

    from order_lines

),

-- Every hour from the first arrival hour to the newest one, plus `rate_alarm_pending_hours`
-- after it: an hour without a single object has no row anywhere else, and its DAG run (which
-- skips dbt) reads its pending row here, built by the last run that had data.
hour_spine as (

    select
        {{ dbt.dateadd('hour', 'hours_of_day.generated_number - 1', 'cast(calendar.date_day as timestamp)') }}
            as arrival_hour

    from calendar

    cross join hours_of_day

    cross join data_bounds

    where
        calendar.date_day >= cast(data_bounds.first_hour as date)
        and calendar.date_day <= cast({{ dbt.dateadd('hour', pending_hours, 'data_bounds.last_hour') }} as date)

),

series as (

    select
        hour_spine.arrival_hour,
        cast(extract(hour from hour_spine.arrival_hour) as integer) as hour_of_day,
        -- 0 = Sunday ... 6 = Saturday on all three engines (as dim_date.day_of_week)
        cast(extract(dow from hour_spine.arrival_hour) as integer) as day_of_week,
        hour_spine.arrival_hour <= data_bounds.last_hour as is_closed,
        coalesce(hourly_orders.order_count, 0) as order_count,
        cast(coalesce(hourly_revenue.net_revenue, 0) as double precision) as net_revenue

    from hour_spine

    cross join data_bounds

    left join hourly_orders
        on hour_spine.arrival_hour = hourly_orders.arrival_hour

    left join hourly_revenue
        on hour_spine.arrival_hour = hourly_revenue.arrival_hour

    where
        hour_spine.arrival_hour >= data_bounds.first_hour
        and hour_spine.arrival_hour <= {{ dbt.dateadd('hour', pending_hours, 'data_bounds.last_hour') }}

)

select * from series
