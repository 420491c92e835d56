variable "name" {
  description = "Namespace and workgroup name (<project>-<environment>)."
  type        = string
}

variable "database" {
  description = "Database dbt builds in."
  type        = string
}

variable "admin_username" {
  description = "Admin user; its password is generated and kept by Secrets Manager."
  type        = string
  default     = "lakehouse_admin"
}

variable "base_capacity_rpu" {
  description = "Base RPUs (8-512, steps of 8)."
  type        = number
}

variable "max_capacity_rpu" {
  description = "Maximum RPUs (caps cost)."
  type        = number
}

variable "glue_database_names" {
  description = "Glue databases Spectrum may read."
  type        = list(string)
}

variable "lake_bucket_arn" {
  description = "Lake bucket ARN."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key (data, admin secret)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (three AZs)."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the workgroup."
  type        = string
}

variable "mwaa_role_name" {
  description = "MWAA execution role: dbt and ANALYZE log in as the database user IAMR:<name>."
  type        = string
}

variable "spectrum_schema" {
  description = "External schema over the silver Glue database that dbt reads."
  type        = string
}

variable "silver_glue_database" {
  description = "Glue database of the silver tables."
  type        = string
}
