# Read back by `lakehouse deploy` from `terraform output -json` (saved as deploy/dev.outputs.json).
# Outputs of a part that is switched off (enable_mwaa, enable_redshift) are "" (terraform output
# -json leaves null outputs out, and the names must always be there).

output "aws_region" {
  description = "Region of the stack."
  value       = local.cfg.aws_region
}

output "raw_bucket" {
  description = "Raw bucket (Firehose destination)."
  value       = module.storage.buckets.raw
}

output "raw_root" {
  description = "LAKEHOUSE_RAW_ROOT: s3:// root above the orders/ prefix."
  value       = trimsuffix("s3://${module.storage.buckets.raw}/${local.raw_root_key}", "/")
}

output "lake_bucket" {
  description = "Lake bucket (Iceberg warehouse)."
  value       = module.storage.buckets.lake
}

output "warehouse_uri" {
  description = "LAKEHOUSE_WAREHOUSE: s3:// root of the Iceberg tables."
  value       = "s3://${module.storage.buckets.lake}/${trimsuffix(local.warehouse_prefix, "/")}"
}

output "artifacts_bucket" {
  description = "Artifacts bucket (job scripts, package zip, GX suites, reports, Athena results)."
  value       = module.storage.buckets.artifacts
}

output "artifacts_uri" {
  description = "LAKEHOUSE_ARTIFACTS_URI: the bucket root; the roles' grants expect spark_jobs/, expectations/, reports/, logs/ below it."
  value       = "s3://${module.storage.buckets.artifacts}"
}

output "mwaa_bucket" {
  description = "MWAA bucket (dags/, requirements.txt, startup.sh, plugins.zip)."
  value       = module.storage.buckets.mwaa
}

output "access_log_bucket" {
  description = "Bucket receiving the server access logs of the others."
  value       = module.storage.buckets.logs
}

output "kms_key_arn" {
  description = "Customer-managed key of the environment."
  value       = module.kms.key_arn
}

output "firehose_stream_name" {
  description = "Firehose delivery stream (Direct PUT)."
  value       = module.firehose.name
}

output "firehose_stream_arn" {
  description = "Firehose delivery stream ARN (producers need firehose:PutRecordBatch on it)."
  value       = module.firehose.arn
}

output "glue_databases" {
  description = "Iceberg namespace -> physical Glue database (<namespace_prefix><namespace>)."
  value       = module.glue.databases
}

output "glue_job_role_arn" {
  description = "Role of the Glue jobs that lakehouse deploy creates."
  value       = module.glue.job_role_arn
}

output "glue_job_name_prefix" {
  description = "Glue jobs are named <prefix>-<program>; the role and policies are scoped to <prefix>-*."
  value       = local.name
}

output "glue_security_configuration" {
  description = "Glue security configuration for the jobs (KMS for S3, logs, bookmarks)."
  value       = module.glue.security_configuration
}


output "emr_application_id" {
  description = "EMR Serverless application id."
  value       = module.emr_serverless.application_id
}

output "emr_image_repository_url" {
  description = "ECR repository of the EMR Serverless custom image (docs/deploy-aws.md: EMR Serverless image)."
  value       = module.emr_serverless.image_repository_url
}

output "emr_execution_role_arn" {
  description = "Execution role of EMR Serverless job runs."
  value       = module.emr_serverless.execution_role_arn
}

output "mwaa_environment_name" {
  description = "MWAA environment name."
  value       = module.mwaa.environment_name == null ? "" : module.mwaa.environment_name
}

output "mwaa_execution_role_arn" {
  description = "MWAA execution role."
  value       = module.mwaa.execution_role_arn
}

output "mwaa_webserver_url" {
  description = "MWAA web server host (private: from inside the VPC)."
  value       = module.mwaa.webserver_url == null ? "" : module.mwaa.webserver_url
}

output "redshift_workgroup" {
  description = "Redshift Serverless workgroup."
  value       = try(module.redshift[0].workgroup_name, "")
}

output "redshift_namespace" {
  description = "Redshift Serverless namespace."
  value       = try(module.redshift[0].namespace_name, "")
}

output "redshift_host" {
  description = "Redshift workgroup endpoint host (DBT_REDSHIFT_HOST)."
  value       = try(module.redshift[0].host, "")
}

output "redshift_database" {
  description = "Database dbt builds in."
  value       = try(module.redshift[0].database, "")
}

output "redshift_secret_arn" {
  description = "Secrets Manager secret of the Redshift admin password (managed by Redshift)."
  value       = try(module.redshift[0].secret_arn, "")
}

output "redshift_spectrum_role_arn" {
  description = "IAM role for CREATE EXTERNAL SCHEMA ... FROM DATA CATALOG."
  value       = try(module.redshift[0].spectrum_role_arn, "")
}

output "sns_topic_arn" {
  description = "Alerts topic."
  value       = module.alerts.topic_arn
}

output "athena_workgroup" {
  description = "Athena workgroup for ad-hoc SQL."
  value       = module.athena.name
}

output "vpc_id" {
  description = "VPC id."
  value       = module.network.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnet ids."
  value       = module.network.private_subnet_ids
}

output "security_group_ids" {
  description = "Security group per workload: mwaa, spark, redshift, vpc_endpoints."
  value       = module.network.security_group_ids
}

output "deploy_policy_arn" {
  description = "Managed policy for the principal that runs lakehouse deploy."
  value       = module.deployer.policy_arn
}

output "quicksight_dataset_ids" {
  description = "QuickSight SPICE datasets the DAG refreshes after the marts (LAKEHOUSE_QUICKSIGHT_DATASET_IDS); [] when QuickSight is off."
  value       = local.quicksight_dataset_ids
}

output "quicksight_dashboard_id" {
  description = "The orders dashboard in QuickSight; \"\" when QuickSight is off."
  value       = try(module.quicksight[0].dashboard_id, "")
}
