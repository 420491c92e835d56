{#- The calendar between vars dim_date_start and dim_date_end, generated without querying the
    warehouse (the bounds are known when compiling), so it compiles offline on every target. -#}
{%- set start_date = modules.datetime.date.fromisoformat(var('dim_date_start')) -%}
{%- set end_date = modules.datetime.date.fromisoformat(var('dim_date_end')) -%}
{%- set day_count = (end_date - start_date).days + 1 -%}

with

day_numbers as (

    {{ dbt.generate_series(day_count) }}

),

days as (

    select
        cast(
            {{ dbt.dateadd('day', 'generated_number - 1', "cast('" ~ start_date ~ "' as date)") }}
            as date
        ) as date_day

    from day_numbers

),

final as (

    select
        date_day,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(day from date_day) as integer) as day_of_month,
        -- 0 = Sunday ... 6 = Saturday, the same on DuckDB, PostgreSQL and Redshift
        cast(extract(dow from date_day) as integer) as day_of_week,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start_date,
        cast({{ dbt.date_trunc('year', 'date_day') }} as date) as year_start_date,
        extract(dow from date_day) in (0, 6) as is_weekend

    from days

)

select * from final
