variable "name" {
  description = "<project>-<environment> (the application name)."
  type        = string
}

variable "release_label" {
  description = "EMR release, 7.x (e.g. emr-7.12.0)."
  type        = string
  validation {
    condition     = can(regex("^emr-7\\.[0-9]+\\.[0-9]+$", var.release_label))
    error_message = "The pipeline targets EMR 7.x (Spark 3.5): use a label such as emr-7.12.0."
  }
}

variable "architecture" {
  description = "X86_64 or ARM64; null leaves EMR's default (X86_64)."
  type        = string
  default     = null
}

variable "max_vcpu" {
  description = "Maximum vCPUs of all running workers (caps cost)."
  type        = number
}

variable "max_memory_gb" {
  description = "Maximum memory (GB) of all running workers."
  type        = number
}

variable "idle_timeout_minutes" {
  description = "Minutes without jobs before the application stops."
  type        = number
  default     = 15
}

variable "image_uri" {
  description = "The custom image (in this module's ECR repository, output image_repository_url); null only until it is pushed: EMR's own image runs Python 3.9, on which the jobs cannot start."
  type        = string
  default     = null
}

variable "images_kept" {
  description = "How many images the ECR repository keeps (older ones expire)."
  type        = number
  default     = 10
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the ECR repository with its images (throwaway environments)."
  type        = bool
  default     = false
}

variable "subnet_ids" {
  description = "Private subnets of the workers."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the workers."
  type        = list(string)
}

variable "data_access_policy_json" {
  description = "The Spark programs' data-access policy (lake_access module)."
  type        = string
}

variable "s3_log_prefix_arn" {
  description = "ARN prefix where job runs write their logs (the DAG's s3MonitoringConfiguration logUri)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key."
  type        = string
}
