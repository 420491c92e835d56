variable "name" {
  description = "<project>-<environment>."
  type        = string
}

variable "mwaa_bucket_arn" {
  description = "MWAA bucket."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "Artifacts bucket."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key."
  type        = string
}

variable "glue_job_name_prefix" {
  description = "Jobs named <prefix>-*."
  type        = string
}

variable "glue_job_role_arn" {
  description = "Role the jobs run as."
  type        = string
}

variable "mwaa_environment_arn" {
  description = "MWAA environment (null when MWAA is off)."
  type        = string
  default     = null
}

variable "mwaa_execution_role_arn" {
  description = "MWAA execution role (null when MWAA is off)."
  type        = string
  default     = null
}
