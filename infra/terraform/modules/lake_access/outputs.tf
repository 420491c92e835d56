output "json" {
  description = "The data-access policy document of a Spark program."
  value       = data.aws_iam_policy_document.this.json
}
