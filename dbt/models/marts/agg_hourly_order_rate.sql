{#-
    The transaction-rate alarm: each Firehose arrival hour's orders against a robust baseline.

    Portable on purpose (DuckDB, PostgreSQL, Redshift): Redshift allows MEDIAN/PERCENTILE_CONT
    as window functions only over a whole partition (no ORDER BY, no frame), so a trailing
    median cannot be a window. Instead every hour is joined to its own history by equality
    (the same hour 1..N days back: linear in the history, no range join), and the medians are
    grouped (macro grouped_median: row_number, no sort-based aggregate, which Redshift allows
    only once per statement).
-#}
{%- set window_days = var('rate_alarm_window_days') | int -%}

with

series as (

    select * from {{ ref('int_hourly_order_counts') }}

),

days_back as (

    {{ dbt.generate_series(window_days) }}

),

-- The same hour of day 1..window_days back, closed hours only (a pending hour is no history).
history as (

    select
        series.arrival_hour,
        past.day_of_week = series.day_of_week as is_same_weekday,
        cast(past.order_count as double precision) as order_count,
        past.net_revenue

    from series

    cross join days_back

    inner join series as past
        on past.arrival_hour = {{ dbt.dateadd('day', '-days_back.generated_number', 'series.arrival_hour') }}

    where past.is_closed

),

-- Two candidate baselines per hour: every day at this hour, and the same weekday at this hour.
baseline_points as (

    select
        arrival_hour,
        'hour_of_day' as baseline,
        order_count,
        net_revenue

    from history

    union all

    select
        arrival_hour,
        'hour_of_week' as baseline,
        order_count,
        net_revenue

    from history

    where is_same_weekday

),

order_medians as (

    {{ grouped_median('baseline_points', ['arrival_hour', 'baseline'], 'order_count', 'expected_order_count') }}

),

revenue_medians as (

    {{ grouped_median('baseline_points', ['arrival_hour', 'baseline'], 'net_revenue', 'expected_net_revenue') }}

),

point_counts as (

    select
        arrival_hour,
        baseline,
        count(*) as points

    from baseline_points

    group by arrival_hour, baseline

),

deviations as (

    select
        baseline_points.arrival_hour,
        baseline_points.baseline,
        abs(baseline_points.order_count - order_medians.expected_order_count) as order_deviation,
        abs(baseline_points.net_revenue - revenue_medians.expected_net_revenue) as revenue_deviation

    from baseline_points

    inner join order_medians
        on
            baseline_points.arrival_hour = order_medians.arrival_hour
            and baseline_points.baseline = order_medians.baseline

    inner join revenue_medians
        on
            baseline_points.arrival_hour = revenue_medians.arrival_hour
            and baseline_points.baseline = revenue_medians.baseline

),

-- Median absolute deviations: the robust spread of each baseline.
order_mads as (

    {{ grouped_median('deviations', ['arrival_hour', 'baseline'], 'order_deviation', 'order_mad') }}

),

revenue_mads as (

    {{ grouped_median('deviations', ['arrival_hour', 'baseline'], 'revenue_deviation', 'net_revenue_mad') }}

),

-- The hour-of-week baseline once it has enough points, else the hour-of-day one.
chosen as (

    select
        arrival_hour,
        case
            when max(case when baseline = 'hour_of_week' then points end) >= {{ var('rate_alarm_week_min_points') }}
                then 'hour_of_week'
            else 'hour_of_day'
        end as baseline,
        -- the history's depth (days with this hour), whichever baseline is used: the min-history rule
        max(case when baseline = 'hour_of_day' then points end) as history_points

    from point_counts

    group by arrival_hour

),

baselines as (

    select
        chosen.arrival_hour,
        chosen.baseline,
        chosen.history_points,
        point_counts.points as baseline_points,
        order_medians.expected_order_count,
        order_mads.order_mad,
        -- The scale is at least an hourly count's own noise: Poisson (variance = the mean, at least
        -- 1) plus a day-to-day share of the mean (rate_alarm_relative_spread). A few similar past
        -- hours give a tiny MAD, which would make any ordinary wobble look extreme.
        greatest(
            1.4826 * order_mads.order_mad,
            sqrt(
                greatest(order_medians.expected_order_count, 1.0)
                + power({{ var('rate_alarm_relative_spread') }} * order_medians.expected_order_count, 2)
            )
        ) as order_scale,
        revenue_medians.expected_net_revenue,
        revenue_mads.net_revenue_mad

    from chosen

    inner join point_counts
        on chosen.arrival_hour = point_counts.arrival_hour and chosen.baseline = point_counts.baseline

    inner join order_medians
        on chosen.arrival_hour = order_medians.arrival_hour and chosen.baseline = order_medians.baseline

    inner join order_mads
        on chosen.arrival_hour = order_mads.arrival_hour and chosen.baseline = order_mads.baseline

    inner join revenue_medians
        on chosen.arrival_hour = revenue_medians.arrival_hour and chosen.baseline = revenue_medians.baseline

    inner join revenue_mads
        on chosen.arrival_hour = revenue_mads.arrival_hour and chosen.baseline = revenue_mads.baseline

),

scored as (

    select
        series.arrival_hour,
        cast(series.arrival_hour as date) as arrival_date,
        series.hour_of_day,
        series.day_of_week,
        series.is_closed,
        series.order_count,
        series.net_revenue,
        coalesce(baselines.baseline, 'none') as baseline,
        coalesce(baselines.history_points, 0) as history_points,
        coalesce(baselines.baseline_points, 0) as baseline_points,
        baselines.expected_order_count,
        baselines.order_mad,
        (series.order_count - baselines.expected_order_count) / baselines.order_scale as order_score,
        greatest(
            baselines.expected_order_count - {{ var('rate_alarm_drop_score') }} * baselines.order_scale, 0.0
        ) as lower_order_count,
        baselines.expected_order_count + {{ var('rate_alarm_spike_score') }} * baselines.order_scale
            as upper_order_count,
        baselines.expected_net_revenue,
        baselines.net_revenue_mad,
        (series.net_revenue - baselines.expected_net_revenue) / nullif(1.4826 * baselines.net_revenue_mad, 0)
            as net_revenue_score

    from series

    left join baselines
        on series.arrival_hour = baselines.arrival_hour

),

judged as (

    select
        *,
        case
            when history_points < {{ var('rate_alarm_min_points') }} then null
            when order_count = 0 and expected_order_count >= {{ var('rate_alarm_zero_min_expected') }} then 'zero'
            when order_score <= -{{ var('rate_alarm_drop_score') }} then 'drop'
            -- a collapse to a small share of a normally busy hour is an outage even where the
            -- count is too small for the score to be sure (a quiet night hour)
            when
                order_count <= {{ var('rate_alarm_drop_fraction') }} * expected_order_count
                and expected_order_count >= {{ var('rate_alarm_zero_min_expected') }}
                then 'drop'
            when order_score >= {{ var('rate_alarm_spike_score') }} then 'spike'
        end as alarm_kind

    from scored

),

final as (

    select
        *,
        -- For charts: a pending hour has no observation yet (its band is the forecast), and an
        -- alarm is a point on the observed line.
        case when is_closed then order_count end as observed_order_count,
        case when is_closed and alarm_kind is not null then order_count end as alarm_order_count

    from judged

)

select * from final
