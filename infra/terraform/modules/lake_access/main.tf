# The data access a Spark program of the pipeline needs, as one policy document shared by the
# Glue job role and the EMR Serverless execution role (the same programs run on both):
# read the raw zone and the landing manifests, read the shipped code and GX suites, write Data
# Docs and Spark scratch, read/write the Iceberg warehouse, use the environment's Glue databases
# and tables (Iceberg's Glue catalog: get/create/update tables; no database creation or deletion
# beyond what Terraform made), and the customer key through S3 only.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  glue_arn  = "arn:${local.partition}:glue:${local.region}:${local.account}"
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ListTheBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.raw_bucket_arn, var.lake_bucket_arn, var.artifacts_bucket_arn]
  }
  statement {
    sid       = "ReadTheRawZoneAndItsManifests"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.raw_bucket_arn}/*"]
  }
  statement {
    sid       = "ReadShippedCode"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.artifacts_bucket_arn}/*"]
  }
  statement {
    sid     = "WriteReportsAndScratch"
    actions = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [
      "${var.artifacts_bucket_arn}/reports/*",
      "${var.artifacts_bucket_arn}/spark-temp/*",
      "${var.artifacts_bucket_arn}/spark-events/*",
    ]
  }
  statement {
    sid       = "ReadWriteTheIcebergWarehouse"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${var.lake_bucket_arn}/${var.warehouse_prefix}*"]
  }
  statement {
    sid = "UseTheEnvironmentsGlueTables"
    actions = [
      "glue:GetCatalog",
      "glue:GetDatabase",
      "glue:GetDatabases",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:DeleteTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
    ]
    resources = concat(
      ["${local.glue_arn}:catalog"],
      [for db in var.glue_database_names : "${local.glue_arn}:database/${db}"],
      [for db in var.glue_database_names : "${local.glue_arn}:table/${db}/*"],
    )
  }
  statement {
    sid       = "UseTheKeyThroughS3"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}
