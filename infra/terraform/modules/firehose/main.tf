# The Direct PUT delivery stream of order events into the raw bucket.
# Layout: <prefix>YYYY/MM/DD/HH/<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>.gz. The prefix has no
# !{timestamp:...} expression, so Firehose appends its default UTC arrival-hour layout: the one
# dags/pipeline/landing.py lists and the hour sensor waits for (interval end + buffer seconds +
# margin). GZIP objects; with newline_delimiter each record ends in "\n" (the reader accepts both).
# Delivery failures land under error_output_prefix, outside the prefix the pipeline reads.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/kinesisfirehose/${var.stream_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_cloudwatch_log_stream" "delivery" {
  name           = "DestinationDelivery"
  log_group_name = aws_cloudwatch_log_group.this.name
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_iam_policy_document" "delivery" {
  statement {
    sid = "DeliverToTheRawBucket"
    actions = [
      "s3:AbortMultipartUpload",
      "s3:GetBucketLocation",
      "s3:GetObject",
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
      "s3:PutObject",
    ]
    resources = [var.bucket_arn, "${var.bucket_arn}/*"]
  }
  statement {
    sid       = "EncryptDeliveredObjects"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
    # With S3 Bucket Keys (modules/s3_bucket) the encryption context is the bucket's ARN;
    # without them, the object's.
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = [var.bucket_arn, "${var.bucket_arn}/*"]
    }
  }
  statement {
    sid       = "LogDeliveryErrors"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:log-stream:${aws_cloudwatch_log_stream.delivery.name}"]
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.stream_name}-delivery"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "this" {
  name   = "deliver-to-raw-bucket"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.delivery.json
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  name        = var.stream_name
  destination = "extended_s3"

  server_side_encryption {
    enabled  = true
    key_type = "CUSTOMER_MANAGED_CMK"
    key_arn  = var.kms_key_arn
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.this.arn
    bucket_arn          = var.bucket_arn
    prefix              = var.prefix
    error_output_prefix = var.error_output_prefix
    compression_format  = "GZIP"
    buffering_interval  = var.buffer_seconds
    buffering_size      = var.buffer_mb
    kms_key_arn         = var.kms_key_arn

    processing_configuration {
      enabled = var.newline_delimiter
      dynamic "processors" {
        for_each = var.newline_delimiter ? ["AppendDelimiterToRecord"] : []
        content {
          type = processors.value
        }
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.this.name
      log_stream_name = aws_cloudwatch_log_stream.delivery.name
    }
  }

  lifecycle {
    precondition {
      condition     = endswith(var.prefix, var.pipeline_table_prefix)
      error_message = "The prefix must end with \"${var.pipeline_table_prefix}\": the pipeline lists <raw root>/${var.pipeline_table_prefix}YYYY/MM/DD/HH/ (dags/pipeline/landing.py)."
    }
  }

  depends_on = [aws_iam_role_policy.this]
}
