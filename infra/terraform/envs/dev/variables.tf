variable "deploy_config" {
  description = "Path of the deploy configuration this root reads (relative to this folder)."
  type        = string
  default     = "../../../../deploy/dev.yaml"
}

variable "enable_mwaa" {
  description = "Create the MWAA environment. Off only where MWAA cannot be emulated (the moto apply test)."
  type        = bool
  default     = true
}

variable "enable_redshift" {
  description = "Create Redshift Serverless. Off only where it cannot be emulated (the moto apply test)."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Let `terraform destroy` empty buckets and the Athena workgroup (throwaway environments only)."
  type        = bool
  default     = false
}
