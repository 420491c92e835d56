output "environment_name" {
  description = "MWAA environment name."
  value       = aws_mwaa_environment.this.name
}

output "environment_arn" {
  description = "MWAA environment ARN."
  value       = aws_mwaa_environment.this.arn
}

output "execution_role_arn" {
  description = "MWAA execution role."
  value       = aws_iam_role.execution.arn
}

output "webserver_url" {
  description = "Web server host name (private: reachable from the VPC)."
  value       = aws_mwaa_environment.this.webserver_url
}
