# The EMR Serverless Spark application (EMR 7.x) in the private subnets, started on demand by a
# job run and stopped after idle minutes, capped by maximum capacity; the execution role a job
# run assumes (trusted only for this application); and the ECR repository of the application's
# custom image (docker/emr-serverless/Dockerfile: Python 3.11 and the jobs' wheels; EMR 7's own
# Python is 3.9, on which the jobs cannot start), which EMR Serverless may pull from.

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

# The custom image. Tags are immutable (a pushed tag always means the same bytes; a new build is a
# new tag in deploy/<env>.yaml), scanned on push, encrypted with the stack's key.
resource "aws_ecr_repository" "image" {
  name                 = "${var.name}-emr-spark"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_destroy
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

resource "aws_ecr_lifecycle_policy" "image" {
  repository = aws_ecr_repository.image.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the newest ${var.images_kept} images (rollback targets)"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = var.images_kept }
      action       = { type = "expire" }
    }]
  })
}

# What EMR Serverless needs to pull a custom image (AWS: "Customizing an EMR Serverless image",
# the repository policy for the service principal). The condition names this account's
# applications rather than this one application's ARN: the application is created with the image
# already set, and EMR checks it can pull at that moment, before Terraform could write a policy
# naming the new application's id.
data "aws_iam_policy_document" "image_pull" {
  statement {
    sid     = "EmrServerlessCustomImageSupport"
    actions = ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
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
      values   = ["arn:${local.partition}:emr-serverless:${local.region}:${local.account}:/applications/*"]
    }
  }
}

resource "aws_ecr_repository_policy" "image" {
  repository = aws_ecr_repository.image.name
  policy     = data.aws_iam_policy_document.image_pull.json
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
