variable "name" {
  description = "Resource name prefix (<project>-<environment>); the alias is alias/<name>."
  type        = string
}

variable "deletion_window_days" {
  description = "Days a scheduled key deletion waits (7-30): the last chance to cancel it."
  type        = number
  default     = 30
}
