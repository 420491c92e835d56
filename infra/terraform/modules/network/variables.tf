variable "name" {
  description = "<project>-<environment>."
  type        = string
}

variable "cidr" {
  description = "VPC CIDR (a /16 leaves room: subnets are /20)."
  type        = string
}

variable "availability_zones" {
  description = "AZ names of the private subnets, one subnet each (Redshift Serverless needs 3)."
  type        = list(string)
  validation {
    condition     = length(var.availability_zones) >= 3
    error_message = "Give three availability zones: Redshift Serverless needs subnets in three."
  }
}

variable "endpoint_az_count" {
  description = "AZs that hold interface endpoint ENIs (each endpoint costs per AZ-hour); the other AZs reach them inside the VPC."
  type        = number
  default     = 2
}

variable "nat_gateway" {
  description = "true: one NAT gateway for egress, no interface endpoints; false: interface endpoints only, no internet path."
  type        = bool
}

variable "interface_endpoints" {
  description = "Interface endpoint services (com.amazonaws.<region>.<name>) created when nat_gateway is false."
  type        = list(string)
}

variable "workloads" {
  description = "Security groups to create: name -> description (e.g. mwaa, spark, redshift)."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "Key that encrypts the flow-log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the flow-log group."
  type        = number
}
