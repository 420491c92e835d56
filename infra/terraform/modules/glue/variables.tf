variable "name" {
  description = "<project>-<environment>."
  type        = string
}

variable "databases" {
  description = "Iceberg namespace -> physical Glue database name (<namespace_prefix><namespace>)."
  type        = map(string)
}

variable "lake_bucket_name" {
  description = "Lake bucket (database locations)."
  type        = string
}

variable "warehouse_prefix" {
  description = "Warehouse key prefix in the lake bucket (e.g. warehouse/)."
  type        = string
}

variable "job_name_prefix" {
  description = "Jobs are named <job_name_prefix>-<program> by lakehouse deploy."
  type        = string
}

variable "data_access_policy_json" {
  description = "The Spark programs' data-access policy (lake_access module)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key."
  type        = string
}
