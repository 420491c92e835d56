output "vpc_id" {
  description = "VPC id."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "VPC CIDR."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "Private subnet ids, in AZ order."
  value       = aws_subnet.private[*].id
}

output "private_subnet_azs" {
  description = "AZ of each private subnet, same order."
  value       = aws_subnet.private[*].availability_zone
}

output "security_group_ids" {
  description = "Security group id per workload (mwaa, spark, redshift) plus vpc_endpoints."
  value       = merge({ for k, sg in aws_security_group.workload : k => sg.id }, { vpc_endpoints = aws_security_group.endpoints.id })
}

output "interface_endpoints" {
  description = "Interface endpoint services created."
  value       = sort(keys(aws_vpc_endpoint.interface))
}
