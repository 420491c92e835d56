output "name" {
  description = "Delivery stream name."
  value       = aws_kinesis_firehose_delivery_stream.this.name
}

output "arn" {
  description = "Delivery stream ARN."
  value       = aws_kinesis_firehose_delivery_stream.this.arn
}

output "role_arn" {
  description = "Role Firehose delivers with."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "CloudWatch log group of delivery errors."
  value       = aws_cloudwatch_log_group.this.name
}
