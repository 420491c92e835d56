with

source as (

    select * from {{ source('gold', 'product_recommendations') }}

),

renamed as (

    select
        ----------  ids
        trim(customer_id) as customer_id,
        upper(trim(stock_code)) as stock_code,

        ----------  ranking
        rank as recommendation_rank,
        score,

        ----------  lineage
        model_version,
        {{ to_utc_timestamp('trained_at') }} as trained_at

    from source

)

select * from renamed
