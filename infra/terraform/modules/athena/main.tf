# An Athena workgroup for ad-hoc SQL over the Iceberg tables: engine v3, results in the
# artifacts bucket (SSE-KMS, expired after 30 days by the bucket's lifecycle), settings enforced
# on every query, and a per-query scan cutoff that bounds the cost of a mistaken query.

resource "aws_athena_workgroup" "this" {
  name          = var.name
  description   = "Ad-hoc SQL over the ${var.name} lakehouse"
  force_destroy = var.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location = var.results_location
      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}
