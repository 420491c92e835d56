output "workgroup_name" {
  description = "Workgroup name."
  value       = aws_redshiftserverless_workgroup.this.workgroup_name
}

output "workgroup_arn" {
  description = "Workgroup ARN."
  value       = aws_redshiftserverless_workgroup.this.arn
}

output "namespace_name" {
  description = "Namespace name."
  value       = aws_redshiftserverless_namespace.this.namespace_name
}

output "host" {
  description = "Workgroup endpoint host name."
  value       = try(aws_redshiftserverless_workgroup.this.endpoint[0].address, null)
}

output "database" {
  description = "Database name."
  value       = aws_redshiftserverless_namespace.this.db_name
}

output "secret_arn" {
  description = "Secrets Manager secret of the admin password (managed by Redshift)."
  value       = aws_redshiftserverless_namespace.this.admin_password_secret_arn
}

output "spectrum_role_arn" {
  description = "Role for CREATE EXTERNAL SCHEMA ... IAM_ROLE."
  value       = aws_iam_role.spectrum.arn
}

output "pipeline_user" {
  description = "Database user of dbt and ANALYZE (IAM): owns the marts."
  value       = local.iam_user
}
