# Glue Data Catalog databases (one per Iceberg namespace, named <namespace_prefix><namespace>
# so two environments in one account never share tables), the role the Glue jobs run as and
# the security configuration the jobs attach (KMS for S3 writes, logs and bookmarks).
# The jobs run in Glue's managed network (no Glue NETWORK connection): it reaches AWS's public
# endpoints and PyPI (where Glue installs --additional-python-modules from); what a job may do
# is bounded by its role. A connection into the private subnets is a job setting, so it
# belongs to `lakehouse deploy` with the jobs.
# The jobs themselves belong to `lakehouse deploy` (one per Spark program, named
# <job_name_prefix>-<program>): it owns scripts, the package zip, modules and --conf.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
}

resource "aws_glue_catalog_database" "this" {
  for_each     = var.databases
  name         = each.value
  description  = "${var.name}: Iceberg namespace ${each.key}"
  location_uri = "s3://${var.lake_bucket_name}/${var.warehouse_prefix}${each.value}.db"
}

resource "aws_glue_security_configuration" "this" {
  name = "${var.name}-jobs"
  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = var.kms_key_arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }
  }
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "runtime" {
  statement {
    sid     = "WriteJobLogs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws-glue/*",
      "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws-glue/*:log-stream:*",
    ]
  }
  statement {
    sid       = "PublishJobMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue"]
    }
  }
  statement {
    sid       = "EncryptLogsAndBookmarks"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role" "job" {
  name               = "${var.name}-glue-job"
  description        = "Runs the Glue jobs ${var.job_name_prefix}-* (created by lakehouse deploy)"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "data" {
  name   = "lake-data-access"
  role   = aws_iam_role.job.id
  policy = var.data_access_policy_json
}

resource "aws_iam_role_policy" "runtime" {
  name   = "glue-runtime"
  role   = aws_iam_role.job.id
  policy = data.aws_iam_policy_document.runtime.json
}
