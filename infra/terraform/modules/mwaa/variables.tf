variable "name" {
  description = "Environment name (<project>-<environment>)."
  type        = string
}

variable "create_environment" {
  description = "Create the MWAA environment (and its log groups); the execution role is created either way."
  type        = bool
  default     = true
}

variable "airflow_version" {
  description = "MWAA Airflow version."
  type        = string
}

variable "environment_class" {
  description = "mw1.micro, mw1.small, mw1.medium, ..."
  type        = string
}

variable "min_workers" {
  description = "Minimum Celery workers."
  type        = number
}

variable "max_workers" {
  description = "Maximum Celery workers."
  type        = number
}

variable "webserver_access_mode" {
  description = "PRIVATE_ONLY (reachable from the VPC) or PUBLIC_ONLY."
  type        = string
  validation {
    condition     = contains(["PRIVATE_ONLY", "PUBLIC_ONLY"], var.webserver_access_mode)
    error_message = "webserver_access_mode is PRIVATE_ONLY or PUBLIC_ONLY."
  }
}

variable "airflow_configuration_options" {
  description = "Airflow configuration overrides (section.key -> value)."
  type        = map(string)
}

variable "mwaa_bucket_arn" {
  description = "Versioned bucket holding dags/, requirements.txt, startup.sh, plugins.zip."
  type        = string
}

variable "raw_bucket_arn" {
  description = "Raw bucket (the DAG lists arrival hours and writes landing manifests)."
  type        = string
}

variable "manifest_prefix" {
  description = "Key prefix of the landing manifests in the raw bucket."
  type        = string
}

variable "claim_prefix" {
  description = "Key prefix of the arrival-hour claims in the raw bucket (one writer per hour)."
  type        = string
}

variable "lake_bucket_arn" {
  description = "Lake bucket: pyiceberg's Glue catalog (ensure_tables, recommendations) writes table metadata under the warehouse prefix."
  type        = string
}

variable "warehouse_prefix" {
  description = "Key prefix of the Iceberg warehouse in the lake bucket."
  type        = string
}

variable "glue_database_names" {
  description = "The environment's Glue databases (Iceberg namespaces) the tasks' catalog uses."
  type        = list(string)
}

variable "quicksight_dataset_ids" {
  description = "SPICE datasets the DAG refreshes after the marts ([] when QuickSight is off)."
  type        = list(string)
  default     = []
}

variable "artifacts_bucket_arn" {
  description = "Artifacts bucket (gate results, reports)."
  type        = string
}

variable "glue_job_name_prefix" {
  description = "The DAG may run Glue jobs named <prefix>-*."
  type        = string
}

variable "emr_application_arn" {
  description = "EMR Serverless application the DAG may run jobs on."
  type        = string
}

variable "emr_execution_role_arn" {
  description = "Role the DAG passes to EMR Serverless job runs."
  type        = string
}

variable "sns_topic_arn" {
  description = "Alerts topic."
  type        = string
}

variable "redshift_workgroup_arn" {
  description = "Redshift Serverless workgroup (dbt, ANALYZE); null when Redshift is off."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "Customer key (environment, logs, queues)."
  type        = string
}

variable "subnet_ids" {
  description = "Two private subnets in different AZs."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) == 2
    error_message = "MWAA takes exactly two private subnets."
  }
}

variable "security_group_id" {
  description = "Security group of the environment."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the Airflow log groups."
  type        = number
}
