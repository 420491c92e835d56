{#
    Create the Redshift external schema over the Glue database of the silver Iceberg tables
    (the `silver` source on the redshift target reads from it). Run once per environment:

        dbt run-operation create_spectrum_schema --target redshift \
            --args '{iam_role: "arn:aws:iam::123456789012:role/redshift-spectrum"}'

    Arguments (all optional):
      schema        external schema name            (default: var spectrum_schema)
      glue_database Glue Data Catalog database      (default: var glue_database)
      iam_role      role Redshift assumes for Glue and S3; default: env DBT_REDSHIFT_SPECTRUM_ROLE_ARN,
                    else the namespace's default IAM role (`iam_role default`)
      region        Glue region if it differs from the cluster's
      dry_run       print the statement instead of running it
#}
{% macro create_spectrum_schema(schema=none, glue_database=none, iam_role=none, region=none, dry_run=false) %}
    {%- if target.type != 'redshift' and not dry_run -%}
        {{ log("create_spectrum_schema: target '" ~ target.name ~ "' is not Redshift; nothing to do", info=true) }}
        {{ return('') }}
    {%- endif -%}

    {%- set schema = schema or env_var('DBT_SPECTRUM_SCHEMA', var('spectrum_schema')) -%}
    {%- set glue_database = glue_database or env_var('DBT_GLUE_DATABASE_SILVER', var('glue_database')) -%}
    {%- set iam_role = iam_role or env_var('DBT_REDSHIFT_SPECTRUM_ROLE_ARN', '') -%}
    {%- set region = region or env_var('DBT_REDSHIFT_SPECTRUM_REGION', '') -%}

    {%- set sql -%}
create external schema if not exists {{ schema }}
from data catalog
database '{{ glue_database }}'
{%- if region %}
region '{{ region }}'
{%- endif %}
{%- if iam_role %}
iam_role '{{ iam_role }}'
{%- else %}
iam_role default
{%- endif %}
    {%- endset -%}

    {%- if dry_run -%}
        {{ print(sql ~ ';') }}
    {%- else -%}
        {% do run_query(sql) %}
        {{ log("create_spectrum_schema: external schema " ~ schema ~ " -> Glue database " ~ glue_database ~ " is ready", info=true) }}
    {%- endif -%}
    {{ return(sql) }}
{% endmacro %}
