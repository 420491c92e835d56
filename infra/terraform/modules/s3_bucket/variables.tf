variable "name" {
  description = "Globally unique bucket name."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key for default SSE-KMS; null means SSE-S3 (only the access-log bucket, which S3 logging requires)."
  type        = string
  default     = null
}

variable "access_logs" {
  description = "Send server access logs to log_bucket (a flag, so the count is known at plan time)."
  type        = bool
  default     = false
}

variable "log_bucket" {
  description = "Bucket that receives this bucket's server access logs when access_logs is true."
  type        = string
  default     = null
}

variable "extra_policy_json" {
  description = "Extra bucket policy statements (JSON policy document), merged with the deny-non-TLS statement."
  type        = string
  default     = null
}

variable "noncurrent_version_days" {
  description = "Days a replaced or deleted object version is kept (the rollback window)."
  type        = number
}

variable "transitions" {
  description = "Storage-class transitions per prefix."
  type = list(object({
    id     = string
    prefix = string
    steps = list(object({
      days          = number
      storage_class = string
    }))
  }))
  default = []
}

variable "expirations" {
  description = "Current-version expirations per prefix (scratch data such as Athena results)."
  type = list(object({
    id     = string
    prefix = string
    days   = number
  }))
  default = []
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete a non-empty bucket (dev/test only)."
  type        = bool
  default     = false
}
