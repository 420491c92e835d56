with

source as (

    select * from {{ source('silver', 'order_lines') }}

),

renamed as (

    select
        ----------  ids
        event_id,
        trim(invoice_no) as invoice_no,
        invoice_line,
        upper(trim(stock_code)) as stock_code,
        nullif(trim(customer_id), '') as customer_id,

        ----------  text
        nullif(trim(description), '') as description,
        trim(country) as country,
        upper(trim(currency)) as currency,

        ----------  numerics
        quantity,
        unit_price,

        ----------  booleans
        is_cancellation,

        ----------  timestamps (UTC wall-clock, no time zone)
        {{ to_utc_timestamp('event_ts') }} as ordered_at,
        {{ to_utc_timestamp('emitted_at') }} as emitted_at,
        {{ to_utc_timestamp('arrival_hour') }} as arrived_at_hour,
        {{ to_utc_timestamp('ingested_at') }} as ingested_at,

        ----------  lineage
        source_object,
        run_id

    from source

),

-- Silver is already one row per event_id (the ingest MERGEs on it). This repeats the rule
-- (latest emitted_at wins, then the latest ingest) so a backfill that bypassed the MERGE cannot
-- double-count revenue in every mart downstream.
versioned as (

    select
        *,
        row_number() over (
            partition by event_id
            order by emitted_at desc nulls last, ingested_at desc, source_object desc
        ) as version_rank

    from renamed

),

deduplicated as (

    select
        event_id,
        invoice_no,
        invoice_line,
        stock_code,
        customer_id,
        description,
        country,
        currency,
        quantity,
        unit_price,
        is_cancellation,
        ordered_at,
        emitted_at,
        arrived_at_hour,
        ingested_at,
        source_object,
        run_id

    from versioned
    where version_rank = 1

)

select * from deduplicated
