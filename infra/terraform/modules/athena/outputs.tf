output "name" {
  description = "Workgroup name."
  value       = aws_athena_workgroup.this.name
}
