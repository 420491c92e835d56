# The pipeline's alert topic (task failures, quality-gate verdicts), encrypted with the
# customer key, with an optional e-mail subscription (confirmed by the recipient).

resource "aws_sns_topic" "this" {
  name              = "${var.name}-alerts"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.email == "" ? 0 : 1
  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.email
}
