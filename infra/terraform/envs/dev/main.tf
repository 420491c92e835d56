# The dev environment: every AWS resource the pipeline uses, configured from deploy/dev.yaml,
# the one deploy configuration that `lakehouse deploy` reads too (no value typed twice).
# Terraform's outputs (terraform output -json > deploy/dev.outputs.json) feed `lakehouse deploy`.

locals {
  cfg  = yamldecode(file("${path.module}/${var.deploy_config}"))
  name = "${local.cfg.project}-${local.cfg.environment}"

  tags = {
    Project     = local.cfg.project
    Environment = local.cfg.environment
    ManagedBy   = "terraform"
  }

  # Iceberg namespaces the pipeline uses (dags/pipeline/tables.py) -> Glue database names.
  namespaces     = ["bronze", "silver", "audit", "gold"]
  glue_databases = { for ns in local.namespaces : ns => "${local.cfg.namespace_prefix}${ns}" }

  # The raw root is the part of the Firehose prefix before the pipeline's table prefix
  # ("orders/"): LAKEHOUSE_RAW_ROOT = s3://<raw bucket>[/<root>], objects under <root>/orders/.
  table_prefix     = "orders/"
  raw_root_key     = trimsuffix(local.cfg.firehose.raw_prefix, local.table_prefix)
  manifest_prefix  = "${local.raw_root_key}_manifests/"
  claim_prefix     = "${local.raw_root_key}_locks/"
  warehouse_prefix = "warehouse/"

  log_retention_days = try(local.cfg.logs.retention_days, 365)

  # QuickSight is the second phase of an environment (docs/deploy-aws.md): its datasets are
  # ingested when created, so the marts must exist (the first green hour builds them). The
  # dataset ids follow from the configuration, so the MWAA role's refresh grant and the DAG's
  # LAKEHOUSE_QUICKSIGHT_DATASET_IDS never wait for QuickSight's API.
  quicksight_on          = try(local.cfg.quicksight.enabled, false)
  quicksight_datasets    = keys(jsondecode(file("${path.module}/../../modules/quicksight/dashboard.json")).datasets)
  quicksight_dataset_ids = local.quicksight_on ? [for key in local.quicksight_datasets : "${local.name}-${key}"] : []

  # Interface endpoints the private subnets need when there is no NAT gateway: MWAA's own
  # (airflow.*, sqs, logs, monitoring, ecr, kms), the Spark jobs' (glue, sts, logs, kms) and
  # what the tasks call (glue, emr-serverless, redshift-data, redshift-serverless,
  # secretsmanager, sns, quicksight: the SPICE refresh). S3 is a gateway endpoint (free) either
  # way. tests/infra/test_network_path.py checks this list against the calls the tasks make.
  interface_endpoints = [
    "airflow.api", "airflow.env", "airflow.ops",
    "ecr.api", "ecr.dkr",
    "emr-serverless",
    "glue",
    "kms",
    "logs", "monitoring",
    "quicksight",
    "redshift-data", "redshift-serverless",
    "secretsmanager",
    "sns", "sqs",
    "sts",
  ]

  # Cosmos otherwise reports every DAG run to its telemetry endpoint (which a private network
  # cannot reach anyway). The deploy configuration may add options.
  mwaa_config_options = merge(
    { "cosmos.enable_telemetry" = "False" },
    try(local.cfg.mwaa.airflow_configuration_options, {}),
  )
}

module "kms" {
  source = "../../modules/kms"
  name   = local.name
}

module "storage" {
  source                     = "../../modules/storage"
  name                       = local.name
  kms_key_arn                = module.kms.key_arn
  raw_prefix                 = local.cfg.firehose.raw_prefix
  raw_infrequent_access_days = local.cfg.storage.raw_infrequent_access_days
  raw_glacier_days           = local.cfg.storage.raw_glacier_days
  noncurrent_version_days    = local.cfg.storage.noncurrent_version_days
  force_destroy              = var.force_destroy
}

module "network" {
  source              = "../../modules/network"
  name                = local.name
  cidr                = local.cfg.network.vpc_cidr
  availability_zones  = local.cfg.network.availability_zones
  nat_gateway         = local.cfg.network.nat_gateway
  interface_endpoints = local.interface_endpoints
  workloads = {
    mwaa     = "MWAA environment: its components, Redshift on 5439, AWS endpoints"
    spark    = "Glue and EMR Serverless Spark workers: each other, AWS endpoints"
    redshift = "Redshift Serverless workgroup: 5439 from MWAA only"
  }
  kms_key_arn        = module.kms.key_arn
  log_retention_days = local.log_retention_days
}

module "firehose" {
  source                = "../../modules/firehose"
  stream_name           = local.cfg.firehose.stream_name
  region                = local.cfg.aws_region
  bucket_arn            = module.storage.bucket_arns.raw
  prefix                = local.cfg.firehose.raw_prefix
  pipeline_table_prefix = local.table_prefix
  error_output_prefix   = "${local.raw_root_key}firehose-errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"
  buffer_seconds        = local.cfg.firehose.buffer_seconds
  buffer_mb             = local.cfg.firehose.buffer_mb
  newline_delimiter     = local.cfg.firehose.newline_delimiter
  kms_key_arn           = module.kms.key_arn
  log_retention_days    = local.log_retention_days
}

module "lake_access" {
  source               = "../../modules/lake_access"
  raw_bucket_arn       = module.storage.bucket_arns.raw
  lake_bucket_arn      = module.storage.bucket_arns.lake
  artifacts_bucket_arn = module.storage.bucket_arns.artifacts
  warehouse_prefix     = local.warehouse_prefix
  glue_database_names  = values(local.glue_databases)
  kms_key_arn          = module.kms.key_arn
}

module "glue" {
  source                  = "../../modules/glue"
  name                    = local.name
  databases               = local.glue_databases
  lake_bucket_name        = module.storage.buckets.lake
  warehouse_prefix        = local.warehouse_prefix
  job_name_prefix         = local.name
  data_access_policy_json = module.lake_access.json
  kms_key_arn             = module.kms.key_arn
}

module "emr_serverless" {
  source                  = "../../modules/emr_serverless"
  name                    = local.name
  release_label           = local.cfg.emr_serverless.release_label
  max_vcpu                = local.cfg.emr_serverless.max_vcpu
  max_memory_gb           = local.cfg.emr_serverless.max_memory_gb
  image_uri               = try(local.cfg.emr_serverless.image_uri, "") == "" ? null : local.cfg.emr_serverless.image_uri
  subnet_ids              = slice(module.network.private_subnet_ids, 0, 2)
  security_group_ids      = [module.network.security_group_ids.spark]
  data_access_policy_json = module.lake_access.json
  s3_log_prefix_arn       = "${module.storage.bucket_arns.artifacts}/logs/emr-serverless/"
  kms_key_arn             = module.kms.key_arn
  force_destroy           = var.force_destroy
}

module "alerts" {
  source      = "../../modules/alerts"
  name        = local.name
  kms_key_arn = module.kms.key_arn
  email       = try(local.cfg.alerts.email, "")
}

module "athena" {
  source                         = "../../modules/athena"
  name                           = local.name
  results_location               = "s3://${module.storage.buckets.artifacts}/athena-results/"
  kms_key_arn                    = module.kms.key_arn
  bytes_scanned_cutoff_per_query = local.cfg.athena.bytes_scanned_cutoff_mb * 1024 * 1024
  force_destroy                  = var.force_destroy
}

module "redshift" {
  count                = var.enable_redshift ? 1 : 0
  source               = "../../modules/redshift"
  name                 = local.name
  mwaa_role_name       = module.mwaa.execution_role_name
  spectrum_schema      = local.cfg.redshift.spectrum_schema
  silver_glue_database = local.glue_databases.silver
  database             = local.cfg.redshift.database
  base_capacity_rpu    = local.cfg.redshift.base_capacity_rpu
  max_capacity_rpu     = local.cfg.redshift.max_capacity_rpu
  glue_database_names  = values(local.glue_databases)
  lake_bucket_arn      = module.storage.bucket_arns.lake
  kms_key_arn          = module.kms.key_arn
  subnet_ids           = module.network.private_subnet_ids
  security_group_id    = module.network.security_group_ids.redshift
}

# The execution role exists with or without the environment (enable_mwaa = false only where
# MWAA cannot be emulated: the moto lanes run the tasks' AWS calls as this role).
module "mwaa" {
  source                        = "../../modules/mwaa"
  create_environment            = var.enable_mwaa
  name                          = local.name
  airflow_version               = local.cfg.mwaa.airflow_version
  environment_class             = local.cfg.mwaa.environment_class
  min_workers                   = local.cfg.mwaa.min_workers
  max_workers                   = local.cfg.mwaa.max_workers
  webserver_access_mode         = local.cfg.mwaa.webserver_access_mode
  airflow_configuration_options = local.mwaa_config_options
  mwaa_bucket_arn               = module.storage.bucket_arns.mwaa
  raw_bucket_arn                = module.storage.bucket_arns.raw
  manifest_prefix               = local.manifest_prefix
  claim_prefix                  = local.claim_prefix
  lake_bucket_arn               = module.storage.bucket_arns.lake
  warehouse_prefix              = local.warehouse_prefix
  glue_database_names           = values(local.glue_databases)
  quicksight_dataset_ids        = local.quicksight_dataset_ids
  artifacts_bucket_arn          = module.storage.bucket_arns.artifacts
  glue_job_name_prefix          = local.name
  emr_application_arn           = module.emr_serverless.application_arn
  emr_execution_role_arn        = module.emr_serverless.execution_role_arn
  sns_topic_arn                 = module.alerts.topic_arn
  redshift_workgroup_arn        = one(module.redshift[*].workgroup_arn)
  kms_key_arn                   = module.kms.key_arn
  subnet_ids                    = slice(module.network.private_subnet_ids, 0, 2)
  security_group_id             = module.network.security_group_ids.mwaa
  log_retention_days            = local.log_retention_days
}

moved {
  from = module.mwaa[0]
  to   = module.mwaa
}

module "deployer" {
  source                  = "../../modules/deployer"
  name                    = local.name
  mwaa_bucket_arn         = module.storage.bucket_arns.mwaa
  artifacts_bucket_arn    = module.storage.bucket_arns.artifacts
  kms_key_arn             = module.kms.key_arn
  glue_job_name_prefix    = local.name
  glue_job_role_arn       = module.glue.job_role_arn
  mwaa_environment_arn    = module.mwaa.environment_arn
  mwaa_execution_role_arn = module.mwaa.execution_role_arn
}

# QuickSight on the marts (needs Redshift, the marts of a first green hour, and a QuickSight
# Enterprise subscription in the account: quicksight.enabled in the deploy configuration, the
# second phase of docs/deploy-aws.md). The dataset ids feed LAKEHOUSE_QUICKSIGHT_DATASET_IDS
# (lakehouse deploy), so the DAG refreshes them after the marts.
module "quicksight" {
  count                      = var.enable_redshift && local.quicksight_on ? 1 : 0
  source                     = "../../modules/quicksight"
  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  redshift_security_group_id = module.network.security_group_ids.redshift
  redshift_host              = module.redshift[0].host
  redshift_database          = module.redshift[0].database
  redshift_workgroup         = module.redshift[0].workgroup_name
  redshift_admin_secret_arn  = module.redshift[0].secret_arn
  marts_owner                = module.redshift[0].pipeline_user
  spectrum_role_arn          = module.redshift[0].spectrum_role_arn
  audit_glue_database        = local.glue_databases.audit
  bronze_glue_database       = local.glue_databases.bronze
  kms_key_arn                = module.kms.key_arn
  audit_schema               = local.cfg.quicksight.audit_external_schema
  bronze_schema              = local.cfg.quicksight.bronze_external_schema
  author_group               = "${local.name}-${local.cfg.quicksight.author_group}"
  reader_group               = "${local.name}-${local.cfg.quicksight.reader_group}"
}
