output "policy_arn" {
  description = "Managed policy to attach to the deploying principal."
  value       = aws_iam_policy.this.arn
}
