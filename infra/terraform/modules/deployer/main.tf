# A managed policy for whoever runs `lakehouse deploy` (a CI role or an operator): upload the
# bundle, create and update the Glue jobs named <glue_job_name_prefix>-* with the Glue job role,
# and update the MWAA environment with the new object versions. Attach it to that principal;
# Terraform does not guess who it is.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ListTheDeployBuckets"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning", "s3:GetBucketLocation"]
    resources = [var.mwaa_bucket_arn, var.artifacts_bucket_arn]
  }
  statement {
    # Uploads changed files and deletes the objects it owns that left the bundle (versioned
    # buckets: a delete is a delete marker, so a rollback can bring the file back).
    sid       = "UploadTheBundleAndDeleteStaleFiles"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.mwaa_bucket_arn}/*", "${var.artifacts_bucket_arn}/*"]
  }
  statement {
    sid       = "EncryptUploadsThroughS3"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
  statement {
    sid       = "OwnTheGlueJobs"
    actions   = ["glue:CreateJob", "glue:UpdateJob", "glue:GetJob", "glue:DeleteJob", "glue:TagResource", "glue:GetTags"]
    resources = ["arn:${local.partition}:glue:${local.region}:${local.account}:job/${var.glue_job_name_prefix}-*"]
  }
  statement {
    sid       = "GiveTheJobsTheirRole"
    actions   = ["iam:PassRole"]
    resources = [var.glue_job_role_arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["glue.amazonaws.com"]
    }
  }
  dynamic "statement" {
    for_each = var.mwaa_environment_arn == null ? [] : [1]
    content {
      sid       = "UpdateTheEnvironment"
      actions   = ["airflow:GetEnvironment", "airflow:UpdateEnvironment"]
      resources = [var.mwaa_environment_arn]
    }
  }
  dynamic "statement" {
    for_each = var.mwaa_execution_role_arn == null ? [] : [1]
    content {
      sid       = "KeepTheEnvironmentsRole"
      actions   = ["iam:PassRole"]
      resources = [var.mwaa_execution_role_arn]
      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["airflow.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_policy" "this" {
  name        = "${var.name}-deploy"
  description = "lakehouse deploy: upload the bundle, own the Glue jobs ${var.glue_job_name_prefix}-*, update MWAA"
  policy      = data.aws_iam_policy_document.this.json
}
