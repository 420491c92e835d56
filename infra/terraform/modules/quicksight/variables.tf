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

variable "redshift_workgroup" {
  description = "Redshift Serverless workgroup (the Data API runs the user and grant SQL there)."
  type        = string
}

variable "redshift_admin_secret_arn" {
  description = "The admin secret (managed by Redshift): only Terraform uses it, to create the reader user and grants."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key: encrypts the reader secret; QuickSight's secrets role decrypts through Secrets Manager."
  type        = string
}

variable "reader_user" {
  description = "Read-only Redshift user QuickSight logs in as."
  type        = string
  default     = "quicksight_reader"
}

variable "marts_owner" {
  description = "Database user that builds the marts (dbt as IAMR:<MWAA role>): its future tables are granted to the reader."
  type        = string
}

variable "spectrum_role_arn" {
  description = "Role of the Spectrum external schemas (reads the Glue catalog and the lake)."
  type        = string
}

variable "audit_glue_database" {
  description = "Glue database of the audit tables (behind the audit external schema)."
  type        = string
}

variable "bronze_glue_database" {
  description = "Glue database of the bronze tables (behind the bronze external schema)."
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
