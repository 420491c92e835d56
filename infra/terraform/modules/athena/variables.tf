variable "name" {
  description = "Workgroup name (<project>-<environment>)."
  type        = string
}

variable "results_location" {
  description = "s3:// prefix of query results."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key for results."
  type        = string
}

variable "bytes_scanned_cutoff_per_query" {
  description = "A query scanning more bytes is cancelled (>= 10 MB)."
  type        = number
}

variable "force_destroy" {
  description = "Delete saved queries with the workgroup."
  type        = bool
  default     = false
}
