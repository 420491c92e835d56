variable "name" {
  description = "<project>-<environment>."
  type        = string
}

variable "cidr" {
  description = "VPC CIDR (a /16 leaves room: subnets are /20)."
  type        = string
}

variable "az_count" {
  description = "Private subnets, one per AZ (Redshift Serverless needs 3)."
  type        = number
  default     = 3
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
