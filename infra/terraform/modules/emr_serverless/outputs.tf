output "application_id" {
  description = "EMR Serverless application id."
  value       = aws_emrserverless_application.this.id
}

output "application_arn" {
  description = "EMR Serverless application ARN."
  value       = aws_emrserverless_application.this.arn
}

output "execution_role_arn" {
  description = "Role the job runs assume."
  value       = aws_iam_role.execution.arn
}

output "image_repository_url" {
  description = "ECR repository of the application's custom image: push docker/emr-serverless/Dockerfile's build here."
  value       = aws_ecr_repository.image.repository_url
}
