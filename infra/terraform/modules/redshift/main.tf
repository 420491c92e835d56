# Redshift Serverless: a namespace (database, admin password generated and rotated by Secrets
# Manager, encrypted with the customer key, audit logs exported) and a workgroup in the private
# subnets with enhanced VPC routing (COPY/UNLOAD/Spectrum traffic stays in the VPC), no public
# access and TLS required; plus the role Spectrum reads the Glue catalog and the lake with.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  glue_arn  = "arn:${local.partition}:glue:${local.region}:${local.account}"
}

data "aws_iam_policy_document" "spectrum_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

data "aws_iam_policy_document" "spectrum" {
  statement {
    sid = "ReadTheGlueCatalog"
    actions = [
      "glue:GetDatabase",
      "glue:GetDatabases",
      "glue:GetTable",
      "glue:GetTables",
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
    sid       = "ListTheLake"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.lake_bucket_arn]
  }
  statement {
    sid       = "ReadTheLake"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.lake_bucket_arn}/*"]
  }
  statement {
    sid       = "DecryptTheLakeThroughS3"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "spectrum" {
  name               = "${var.name}-redshift-spectrum"
  description        = "Redshift Spectrum reads the Glue catalog and the lake bucket"
  assume_role_policy = data.aws_iam_policy_document.spectrum_trust.json
}

resource "aws_iam_role_policy" "spectrum" {
  name   = "spectrum-read-lake"
  role   = aws_iam_role.spectrum.id
  policy = data.aws_iam_policy_document.spectrum.json
}

resource "aws_redshiftserverless_namespace" "this" {
  namespace_name                   = var.name
  db_name                          = var.database
  admin_username                   = var.admin_username
  manage_admin_password            = true
  admin_password_secret_kms_key_id = var.kms_key_arn
  kms_key_id                       = var.kms_key_arn
  iam_roles                        = [aws_iam_role.spectrum.arn]
  default_iam_role_arn             = aws_iam_role.spectrum.arn
  log_exports                      = ["userlog", "connectionlog", "useractivitylog"]
}

resource "aws_redshiftserverless_workgroup" "this" {
  workgroup_name       = var.name
  namespace_name       = aws_redshiftserverless_namespace.this.namespace_name
  base_capacity        = var.base_capacity_rpu
  max_capacity         = var.max_capacity_rpu
  enhanced_vpc_routing = true
  publicly_accessible  = false
  subnet_ids           = var.subnet_ids
  security_group_ids   = [var.security_group_id]

  # Redshift returns every parameter: declaring all of them keeps plans empty.
  dynamic "config_parameter" {
    for_each = {
      auto_mv                          = "true"
      datestyle                        = "ISO, MDY"
      enable_case_sensitive_identifier = "false"
      enable_user_activity_logging     = "true"
      max_query_execution_time         = "14400"
      query_group                      = "default"
      require_ssl                      = "true"
      search_path                      = "$user, public"
      use_fips_ssl                     = "false"
    }
    content {
      parameter_key   = config_parameter.key
      parameter_value = config_parameter.value
    }
  }
}
