variable "raw_bucket_arn" {
  description = "Raw bucket ARN."
  type        = string
}

variable "lake_bucket_arn" {
  description = "Lake (Iceberg warehouse) bucket ARN."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "Artifacts bucket ARN."
  type        = string
}

variable "warehouse_prefix" {
  description = "Key prefix of the Iceberg warehouse in the lake bucket (e.g. warehouse/)."
  type        = string
}

variable "glue_database_names" {
  description = "Physical Glue database names the jobs may use."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Customer key."
  type        = string
}
