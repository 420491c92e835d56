output "databases" {
  description = "Iceberg namespace -> physical Glue database name."
  value       = { for k, db in aws_glue_catalog_database.this : k => db.name }
}

output "database_names" {
  description = "Physical Glue database names."
  value       = [for db in aws_glue_catalog_database.this : db.name]
}

output "job_role_arn" {
  description = "Role of the Glue jobs."
  value       = aws_iam_role.job.arn
}

output "job_role_name" {
  description = "Role name of the Glue jobs."
  value       = aws_iam_role.job.name
}

output "security_configuration" {
  description = "Security configuration the jobs attach."
  value       = aws_glue_security_configuration.this.name
}
