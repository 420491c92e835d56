# The EMR Serverless Spark application (EMR 7.x) in the private subnets, started on demand by a
# job run and stopped after idle minutes, capped by maximum capacity; and the execution role a
# job run assumes (trusted only for this application).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
}

resource "aws_emrserverless_application" "this" {
  name          = var.name
  release_label = var.release_label
  type          = "SPARK"
  architecture  = var.architecture

  maximum_capacity {
    cpu    = "${var.max_vcpu} vCPU"
    memory = "${var.max_memory_gb} GB"
  }

  auto_start_configuration {
    enabled = true
  }

  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = var.idle_timeout_minutes
  }

  network_configuration {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  dynamic "image_configuration" {
    for_each = var.image_uri == null ? [] : [var.image_uri]
    content {
      image_uri = image_configuration.value
    }
  }
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["emr-serverless.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_emrserverless_application.this.arn]
    }
  }
}

data "aws_iam_policy_document" "runtime" {
  statement {
    sid     = "WriteJobLogs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/emr-serverless/*",
      "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/emr-serverless/*:log-stream:*",
    ]
  }
  statement {
    sid       = "WriteJobLogsToS3"
    actions   = ["s3:PutObject"]
    resources = ["${var.s3_log_prefix_arn}*"]
  }
  statement {
    sid       = "EncryptLogs"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-emr-serverless-job"
  description        = "Job runs of the EMR Serverless application ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "data" {
  name   = "lake-data-access"
  role   = aws_iam_role.execution.id
  policy = var.data_access_policy_json
}

resource "aws_iam_role_policy" "runtime" {
  name   = "emr-serverless-runtime"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.runtime.json
}
