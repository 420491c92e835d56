variable "name" {
  description = "<project>-<environment>."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key."
  type        = string
}

variable "email" {
  description = "Optional e-mail subscription (empty: none)."
  type        = string
  default     = ""
}
