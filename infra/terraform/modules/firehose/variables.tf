variable "stream_name" {
  description = "Delivery stream name (also the object name prefix Firehose writes)."
  type        = string
}

variable "region" {
  description = "AWS region (for the kms:ViaService condition)."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the raw bucket."
  type        = string
}

variable "prefix" {
  description = "Static object prefix; Firehose appends YYYY/MM/DD/HH/ (UTC arrival hour)."
  type        = string
  validation {
    condition     = !strcontains(var.prefix, "!{") && endswith(var.prefix, "/")
    error_message = "The prefix must be static and end with '/': Firehose then appends its default UTC YYYY/MM/DD/HH/ layout, which the pipeline reads."
  }
}

variable "pipeline_table_prefix" {
  description = "The prefix the pipeline reads below its raw root (dags/pipeline/landing.py TABLE_PREFIX + /)."
  type        = string
  default     = "orders/"
}

variable "error_output_prefix" {
  description = "Where records that failed delivery or processing land (outside prefix)."
  type        = string
}

variable "buffer_seconds" {
  description = "Buffering interval (0-900 s); the hour sensor waits interval end + this + margin."
  type        = number
  validation {
    condition     = var.buffer_seconds >= 0 && var.buffer_seconds <= 900
    error_message = "buffer_seconds must be between 0 and 900."
  }
}

variable "buffer_mb" {
  description = "Buffering size in MiB (1-128)."
  type        = number
  validation {
    condition     = var.buffer_mb >= 1 && var.buffer_mb <= 128
    error_message = "buffer_mb must be between 1 and 128."
  }
}

variable "newline_delimiter" {
  description = "Append a newline to every record (AppendDelimiterToRecord processor)."
  type        = bool
}

variable "kms_key_arn" {
  description = "Customer key: stream SSE, delivered objects, log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the delivery error log group."
  type        = number
}
