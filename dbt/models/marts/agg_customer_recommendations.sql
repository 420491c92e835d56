with

recommendations as (

    select * from {{ ref('stg_product_recommendations') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

-- The description is what a dashboard or a mail template shows; a product the warehouse has not
-- seen yet (the model can be ahead of the hourly marts by minutes) keeps its row, description null.
described as (

    select
        recommendations.customer_id,
        recommendations.recommendation_rank,
        recommendations.stock_code,
        products.description,
        recommendations.score,
        recommendations.model_version,
        recommendations.trained_at

    from recommendations

    left join products
        on recommendations.stock_code = products.stock_code

)

select * from described
