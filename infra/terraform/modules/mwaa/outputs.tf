output "environment_name" {
  description = "MWAA environment name."
  value       = one(aws_mwaa_environment.this[*].name)
}

output "environment_arn" {
  description = "MWAA environment ARN (known from the name, so the deploy policy can name it before the environment exists)."
  value       = local.env_arn
}

output "execution_role_arn" {
  description = "MWAA execution role."
  value       = aws_iam_role.execution.arn
}

output "webserver_url" {
  description = "Web server host name (private: reachable from the VPC)."
  value       = one(aws_mwaa_environment.this[*].webserver_url)
}

output "execution_role_name" {
  description = "MWAA execution role name (its Redshift database user is IAMR:<name>)."
  value       = aws_iam_role.execution.name
}
