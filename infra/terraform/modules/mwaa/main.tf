# The MWAA environment (Airflow 3.2.1, private web server) and its execution role. The role
# exists even where the environment is not created (create_environment = false: the moto lane,
# which has no MWAA API, runs every task's AWS calls as this role).
# `lakehouse deploy` owns the versioned objects (requirements.txt, startup.sh, plugins.zip) and
# calls UpdateEnvironment with their version ids, so Terraform ignores those six attributes.
# MWAA creates its log groups if they do not exist; creating them here first sets retention
# and the customer key on them.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  env_arn   = "arn:${local.partition}:airflow:${local.region}:${local.account}:environment/${var.name}"
  log_types = { dag_processing = "DAGProcessing", scheduler = "Scheduler", task = "Task", webserver = "WebServer", worker = "Worker" }
  glue_jobs = "arn:${local.partition}:glue:${local.region}:${local.account}:job/${var.glue_job_name_prefix}-*"
  glue_arn  = "arn:${local.partition}:glue:${local.region}:${local.account}"
  datasets  = [for id in var.quicksight_dataset_ids : "arn:${local.partition}:quicksight:${local.region}:${local.account}:dataset/${id}"]
}

resource "aws_cloudwatch_log_group" "airflow" {
  for_each          = { for kind, name in local.log_types : kind => name if var.create_environment }
  name              = "airflow-${var.name}-${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["airflow.amazonaws.com", "airflow-env.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.env_arn]
    }
  }
}

data "aws_iam_policy_document" "execution" {
  # --- what MWAA itself needs (AWS's documented execution-role policy, scoped) ---
  statement {
    sid       = "PublishAirflowMetrics"
    actions   = ["airflow:PublishMetrics"]
    resources = [local.env_arn]
  }
  statement {
    sid       = "DenyListingAllBuckets"
    effect    = "Deny"
    actions   = ["s3:ListAllMyBuckets"]
    resources = [var.mwaa_bucket_arn, "${var.mwaa_bucket_arn}/*"]
  }
  statement {
    sid       = "ReadTheMwaaBucket"
    actions   = ["s3:GetObject*", "s3:GetBucket*", "s3:List*"]
    resources = [var.mwaa_bucket_arn, "${var.mwaa_bucket_arn}/*"]
  }
  statement {
    sid = "WriteAirflowLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:CreateLogGroup",
      "logs:PutLogEvents",
      "logs:GetLogEvents",
      "logs:GetLogRecord",
      "logs:GetLogGroupFields",
      "logs:GetQueryResults",
    ]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:airflow-${var.name}-*"]
  }
  statement {
    sid       = "DescribeLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"]
  }
  statement {
    sid       = "PublishMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["AmazonMWAA"]
    }
  }
  statement {
    sid = "UseCeleryQueues"
    actions = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
    ]
    resources = ["arn:${local.partition}:sqs:${local.region}:*:airflow-celery-*"]
  }
  statement {
    sid       = "UseTheKeyForQueuesAndBucket"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["sqs.${local.region}.amazonaws.com", "s3.${local.region}.amazonaws.com"]
    }
  }

  # --- what the pipeline's tasks need ---
  statement {
    sid       = "ListTheRawZone"
    actions   = ["s3:ListBucket"]
    resources = [var.raw_bucket_arn, var.artifacts_bucket_arn]
  }
  statement {
    sid       = "ReadAndWriteLandingManifests"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${var.raw_bucket_arn}/${var.manifest_prefix}*"]
  }
  statement {
    # one writer per arrival hour (dags/pipeline/hour_claims.py): create (If-None-Match), read, drop
    sid       = "ClaimArrivalHours"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.raw_bucket_arn}/${var.claim_prefix}*"]
  }
  statement {
    sid       = "ReadGateResultsAndReports"
    actions   = ["s3:GetObject"]
    resources = ["${var.artifacts_bucket_arn}/*"]
  }
  statement {
    sid       = "ListTheLake"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.lake_bucket_arn]
  }
  statement {
    # pyiceberg's Glue catalog (ensure_tables, the recommendations DAG) writes table metadata here.
    sid       = "ReadWriteIcebergMetadata"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${var.lake_bucket_arn}/${var.warehouse_prefix}*"]
  }
  statement {
    # pyiceberg's Glue catalog: list/create namespaces (Terraform made them; creating is a no-op
    # unless one is missing), load/create/commit tables. Only this environment's databases.
    sid = "UseTheEnvironmentsGlueCatalog"
    actions = [
      "glue:GetDatabase", "glue:GetDatabases", "glue:CreateDatabase", "glue:UpdateDatabase",
      "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
    ]
    resources = concat(
      ["${local.glue_arn}:catalog"],
      [for db in var.glue_database_names : "${local.glue_arn}:database/${db}"],
      [for db in var.glue_database_names : "${local.glue_arn}:table/${db}/*"],
    )
  }
  statement {
    sid       = "RunTheGlueJobs"
    actions   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun", "glue:GetJob"]
    resources = [local.glue_jobs]
  }
  statement {
    sid       = "RunEmrServerlessJobs"
    actions   = ["emr-serverless:StartJobRun", "emr-serverless:GetJobRun", "emr-serverless:CancelJobRun", "emr-serverless:GetApplication", "emr-serverless:StartApplication", "emr-serverless:GetDashboardForJobRun"]
    resources = [var.emr_application_arn, "${var.emr_application_arn}/jobruns/*"]
  }
  statement {
    sid       = "PassTheEmrExecutionRole"
    actions   = ["iam:PassRole"]
    resources = [var.emr_execution_role_arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["emr-serverless.amazonaws.com"]
    }
  }
  statement {
    sid       = "PublishAlerts"
    actions   = ["sns:Publish"]
    resources = [var.sns_topic_arn]
  }
  statement {
    sid       = "UseTheKeyForAlertsAndManifests"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["sns.${local.region}.amazonaws.com", "s3.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]
    }
  }

  dynamic "statement" {
    for_each = var.redshift_workgroup_arn == null ? [] : [1]
    content {
      sid       = "DbtConnectsToRedshiftWithIam"
      actions   = ["redshift-serverless:GetCredentials", "redshift-serverless:GetWorkgroup"]
      resources = [var.redshift_workgroup_arn]
    }
  }
  dynamic "statement" {
    for_each = var.redshift_workgroup_arn == null ? [] : [1]
    content {
      sid       = "RunMaintenanceSqlThroughTheDataApi"
      actions   = ["redshift-data:ExecuteStatement", "redshift-data:BatchExecuteStatement"]
      resources = [var.redshift_workgroup_arn]
    }
  }
  dynamic "statement" {
    for_each = var.redshift_workgroup_arn == null ? [] : [1]
    content {
      # The Data API's statement calls are authorised on the statement's owner. A deferrable
      # task polls from the triggerer, another session of this role: aws:userid there is
      # "<role id>:<other session>", so the owner is matched on the role's unique id, any session.
      sid       = "ReadThisRolesStatementResults"
      actions   = ["redshift-data:DescribeStatement", "redshift-data:GetStatementResult", "redshift-data:CancelStatement"]
      resources = ["*"]
      condition {
        test     = "StringLike"
        variable = "redshift-data:statement-owner-iam-userid"
        values   = ["${aws_iam_role.execution.unique_id}:*"]
      }
    }
  }
  dynamic "statement" {
    for_each = length(local.datasets) == 0 ? [] : [1]
    content {
      # The SPICE refresh after the marts (dags/pipeline/quicksight.py): start and poll ingestions.
      sid       = "RefreshTheSpiceDatasets"
      actions   = ["quicksight:CreateIngestion", "quicksight:DescribeIngestion"]
      resources = concat(local.datasets, [for arn in local.datasets : "${arn}/ingestion/*"])
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-mwaa-execution"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "execution" {
  name   = "mwaa-and-pipeline"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_mwaa_environment" "this" {
  count                 = var.create_environment ? 1 : 0
  name                  = var.name
  airflow_version       = var.airflow_version
  environment_class     = var.environment_class
  min_workers           = var.min_workers
  max_workers           = var.max_workers
  execution_role_arn    = aws_iam_role.execution.arn
  kms_key               = var.kms_key_arn
  source_bucket_arn     = var.mwaa_bucket_arn
  dag_s3_path           = "dags"
  webserver_access_mode = var.webserver_access_mode

  airflow_configuration_options = var.airflow_configuration_options

  network_configuration {
    security_group_ids = [var.security_group_id]
    subnet_ids         = var.subnet_ids
  }

  logging_configuration {
    dag_processing_logs {
      enabled   = true
      log_level = "WARNING"
    }
    scheduler_logs {
      enabled   = true
      log_level = "WARNING"
    }
    task_logs {
      enabled   = true
      log_level = "INFO"
    }
    webserver_logs {
      enabled   = true
      log_level = "WARNING"
    }
    worker_logs {
      enabled   = true
      log_level = "WARNING"
    }
  }

  lifecycle {
    # `lakehouse deploy` uploads these objects and updates the environment with their versions.
    ignore_changes = [
      requirements_s3_path,
      requirements_s3_object_version,
      startup_script_s3_path,
      startup_script_s3_object_version,
      plugins_s3_path,
      plugins_s3_object_version,
    ]
  }

  depends_on = [aws_iam_role_policy.execution, aws_cloudwatch_log_group.airflow]
}

moved {
  from = aws_mwaa_environment.this
  to   = aws_mwaa_environment.this[0]
}
