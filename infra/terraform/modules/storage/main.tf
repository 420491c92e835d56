# The environment's buckets. Names are <project>-<environment>-<purpose>-<account>-<region>
# (globally unique without a random suffix, so `lakehouse deploy` and the tests can derive them);
# the MWAA bucket starts with "airflow-" as MWAA's documentation asks.
#   raw        Firehose lands order events under <raw_prefix>YYYY/MM/DD/HH/ (UTC arrival hour)
#   lake       the Iceberg warehouse (bronze, silver, audit tables)
#   artifacts  Spark entry scripts, the job package zip, GX suites, Data Docs, Athena results
#   mwaa       MWAA's dags/, requirements.txt, startup.sh, plugins.zip (versioned: MWAA pins versions)
#   logs       server access logs of the four above (SSE-S3: S3 logging cannot write SSE-KMS)

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  suffix = "${data.aws_caller_identity.current.account_id}-${data.aws_region.current.name}"
  names = {
    raw       = "${var.name}-raw-${local.suffix}"
    lake      = "${var.name}-lake-${local.suffix}"
    artifacts = "${var.name}-artifacts-${local.suffix}"
    mwaa      = "airflow-${var.name}-${local.suffix}"
    logs      = "${var.name}-s3-access-logs-${local.suffix}"
  }
}

# S3 server access logging delivers with the logging service principal, allowed by policy
# (ACLs are disabled by BucketOwnerEnforced).
data "aws_iam_policy_document" "log_delivery" {
  statement {
    sid       = "S3ServerAccessLogsFromThisAccountsBuckets"
    actions   = ["s3:PutObject"]
    resources = ["arn:aws:s3:::${local.names.logs}/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [for k, n in local.names : "arn:aws:s3:::${n}" if k != "logs"]
    }
  }
}

module "logs" {
  #checkov:skip=CKV_AWS_145:S3 server access logging delivers only to SSE-S3 buckets; the log bucket holds request metadata, not data.
  source                  = "../s3_bucket"
  name                    = local.names.logs
  kms_key_arn             = null
  extra_policy_json       = data.aws_iam_policy_document.log_delivery.json
  noncurrent_version_days = 7
  expirations             = [{ id = "expire-access-logs", prefix = "", days = var.access_log_days }]
  force_destroy           = var.force_destroy
}

module "raw" {
  source                  = "../s3_bucket"
  name                    = local.names.raw
  kms_key_arn             = var.kms_key_arn
  access_logs             = true
  log_bucket              = module.logs.name_once_policy_applied
  noncurrent_version_days = var.noncurrent_version_days
  # Old arrival hours are read only by backfills: Infrequent Access, then Glacier Instant
  # Retrieval (millisecond reads, so a backfill never waits for a restore).
  transitions = [{
    id     = "raw-to-infrequent-access-then-glacier-ir"
    prefix = var.raw_prefix
    steps = [
      { days = var.raw_infrequent_access_days, storage_class = "STANDARD_IA" },
      { days = var.raw_glacier_days, storage_class = "GLACIER_IR" },
    ]
  }]
  force_destroy = var.force_destroy
}

module "lake" {
  source                  = "../s3_bucket"
  name                    = local.names.lake
  kms_key_arn             = var.kms_key_arn
  access_logs             = true
  log_bucket              = module.logs.name_once_policy_applied
  noncurrent_version_days = var.noncurrent_version_days
  force_destroy           = var.force_destroy
}

module "artifacts" {
  source                  = "../s3_bucket"
  name                    = local.names.artifacts
  kms_key_arn             = var.kms_key_arn
  access_logs             = true
  log_bucket              = module.logs.name_once_policy_applied
  noncurrent_version_days = var.noncurrent_version_days
  expirations             = [{ id = "expire-athena-results", prefix = "athena-results/", days = 30 }]
  force_destroy           = var.force_destroy
}

module "mwaa" {
  source                  = "../s3_bucket"
  name                    = local.names.mwaa
  kms_key_arn             = var.kms_key_arn
  access_logs             = true
  log_bucket              = module.logs.name_once_policy_applied
  noncurrent_version_days = var.noncurrent_version_days
  force_destroy           = var.force_destroy
}
