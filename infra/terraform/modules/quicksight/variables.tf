variable "name" {
  description = "Name prefix of every resource (<project>-<env>); also the prefix of the dataset ids."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the Redshift workgroup; the VPC connection's network interfaces go in it."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for QuickSight's VPC connection (at least two AZs)."
  type        = list(string)
}

variable "redshift_security_group_id" {
  description = "Security group of the Redshift workgroup: gets an ingress rule on 5439 from QuickSight's group."
  type        = string
}

variable "redshift_host" {
  description = "Redshift workgroup endpoint host."
  type        = string
}

variable "redshift_port" {
  description = "Redshift port."
  type        = number
  default     = 5439
}

variable "redshift_database" {
  description = "Database that holds the marts."
  type        = string
}

variable "redshift_secret_arn" {
  description = "Secrets Manager secret with the Redshift credentials QuickSight connects with (username, password)."
  type        = string
}

variable "marts_schema" {
  description = "Schema dbt builds the marts in (dbt_project.yml: +schema: marts)."
  type        = string
  default     = "marts"
}

variable "audit_schema" {
  description = "Redshift external schema (Spectrum) over the Glue database of the audit tables."
  type        = string
}

variable "bronze_schema" {
  description = "Redshift external schema (Spectrum) over the Glue database of the bronze tables."
  type        = string
}

variable "author_group" {
  description = "QuickSight group that owns (edits) the data source, datasets and dashboard; created here."
  type        = string
}

variable "reader_group" {
  description = "QuickSight group allowed to view the dashboard; created here."
  type        = string
}

variable "namespace" {
  description = "QuickSight namespace of the groups."
  type        = string
  default     = "default"
}
