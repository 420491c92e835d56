variable "name" {
  description = "<project>-<environment>."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key for SSE-KMS."
  type        = string
}

variable "raw_prefix" {
  description = "Firehose's prefix in the raw bucket (the lifecycle rule's scope)."
  type        = string
}

variable "raw_infrequent_access_days" {
  description = "Days after which raw objects move to S3 Standard-IA (>= 30)."
  type        = number
}

variable "raw_glacier_days" {
  description = "Days after which raw objects move to Glacier Instant Retrieval (>= IA days + 30)."
  type        = number
}

variable "noncurrent_version_days" {
  description = "Days replaced or deleted object versions are kept (rollback window)."
  type        = number
}

variable "access_log_days" {
  description = "Days server access logs are kept."
  type        = number
  default     = 90
}

variable "force_destroy" {
  description = "Let `terraform destroy` empty the buckets (dev/test only)."
  type        = bool
  default     = false
}
