output "dataset_ids" {
  description = "SPICE dataset ids (sorted by dashboard.json key): the DAG refreshes each after the marts (LAKEHOUSE_QUICKSIGHT_DATASET_IDS)."
  value       = [for key in keys(local.spec.datasets) : aws_quicksight_data_set.this[key].data_set_id]
}

output "dashboard_id" {
  description = "The dashboard's id."
  value       = aws_quicksight_dashboard.orders.dashboard_id
}

output "data_source_arn" {
  description = "The Redshift data source."
  value       = aws_quicksight_data_source.redshift.arn
}

output "reader_group_arn" {
  description = "QuickSight group that may view the dashboard: add readers to it."
  value       = aws_quicksight_group.readers.arn
}
