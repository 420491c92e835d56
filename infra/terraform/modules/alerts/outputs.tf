output "topic_arn" {
  description = "Alerts topic ARN."
  value       = aws_sns_topic.this.arn
}
