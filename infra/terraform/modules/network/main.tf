# A VPC with private subnets only, one per AZ (three: Redshift Serverless needs three, MWAA uses
# two).
# Private subnets reach AWS services through VPC endpoints (nat_gateway = false, the default:
# no internet path at all) or through one NAT gateway (nat_gateway = true: cheaper when few
# endpoints would be used, but opens an egress path to the internet).
# Security groups grant least access: each workload group talks to itself, to the endpoints on
# 443 and to S3 through the gateway endpoint; MWAA reaches Redshift on 5439; nothing else.

# The AZs are named in the deploy configuration, and the lookup is pinned to exactly those
# names: it proves they exist in this account and region, and a new or impaired AZ can never
# shift the subnets (which would replace them).
data "aws_availability_zones" "chosen" {
  filter {
    name   = "zone-name"
    values = var.availability_zones
  }

  lifecycle {
    postcondition {
      condition     = length(self.names) == length(var.availability_zones)
      error_message = "Some of the availability zones ${join(", ", var.availability_zones)} do not exist in this region/account."
    }
  }
}

data "aws_region" "current" {}

locals {
  azs            = sort(data.aws_availability_zones.chosen.names)
  region         = data.aws_region.current.name
  endpoint_azs   = slice(local.azs, 0, var.endpoint_az_count)
  interface_endp = var.nat_gateway ? toset([]) : toset(var.interface_endpoints)
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

# The default security group allows nothing (it is never used).
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-default-unused" }
}

resource "aws_subnet" "private" {
  count             = length(local.azs)
  vpc_id            = aws_vpc.this.id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.cidr, 4, count.index)
  tags              = { Name = "${var.name}-private-${local.azs[count.index]}", Tier = "private" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-private" }
}

resource "aws_route_table_association" "private" {
  count          = length(aws_subnet.private)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# --- optional NAT: one public subnet, an internet gateway, one NAT gateway ------------------

resource "aws_internet_gateway" "this" {
  count  = var.nat_gateway ? 1 : 0
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name }
}

resource "aws_subnet" "public" {
  count             = var.nat_gateway ? 1 : 0
  vpc_id            = aws_vpc.this.id
  availability_zone = local.azs[0]
  cidr_block        = cidrsubnet(var.cidr, 4, 15)
  tags              = { Name = "${var.name}-public-nat", Tier = "public" }
}

resource "aws_route_table" "public" {
  count  = var.nat_gateway ? 1 : 0
  vpc_id = aws_vpc.this.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this[0].id
  }
  tags = { Name = "${var.name}-public" }
}

resource "aws_route_table_association" "public" {
  count          = var.nat_gateway ? 1 : 0
  subnet_id      = aws_subnet.public[0].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  #checkov:skip=CKV2_AWS_19:The address belongs to the NAT gateway below, not to an instance.
  count  = var.nat_gateway ? 1 : 0
  domain = "vpc"
  tags   = { Name = "${var.name}-nat" }
}

resource "aws_nat_gateway" "this" {
  count         = var.nat_gateway ? 1 : 0
  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id
  tags          = { Name = var.name }
  depends_on    = [aws_internet_gateway.this]
}

resource "aws_route" "private_nat" {
  count                  = var.nat_gateway ? 1 : 0
  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[0].id
}

# --- VPC endpoints ---------------------------------------------------------------------------

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  tags              = { Name = "${var.name}-s3" }
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = local.interface_endp
  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${local.region}.${each.value}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = [for s in aws_subnet.private : s.id if contains(local.endpoint_azs, s.availability_zone)]
  security_group_ids  = [aws_security_group.endpoints.id]
  tags                = { Name = "${var.name}-${each.value}" }
}

# --- security groups -------------------------------------------------------------------------

resource "aws_security_group" "endpoints" {
  name        = "${var.name}-vpc-endpoints"
  description = "Interface VPC endpoints: HTTPS from the lakehouse workloads only"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-vpc-endpoints" }
}

resource "aws_security_group" "workload" {
  #checkov:skip=CKV2_AWS_5:Each group is attached outside this module: mwaa by modules/mwaa, spark by modules/emr_serverless (and Glue jobs that deploy attaches), redshift by modules/redshift; checkov does not follow module outputs.
  for_each    = var.workloads
  name        = "${var.name}-${each.key}"
  description = each.value
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-${each.key}" }
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_workloads" {
  for_each                     = var.workloads
  security_group_id            = aws_security_group.endpoints.id
  description                  = "HTTPS from ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.workload[each.key].id
}

# Members of a group talk to each other (Spark driver/executors, MWAA's components; Glue and
# MWAA require this self-reference).
resource "aws_vpc_security_group_ingress_rule" "self" {
  for_each                     = var.workloads
  security_group_id            = aws_security_group.workload[each.key].id
  description                  = "All traffic from members of ${each.key}"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.workload[each.key].id
}

resource "aws_vpc_security_group_egress_rule" "self" {
  for_each                     = var.workloads
  security_group_id            = aws_security_group.workload[each.key].id
  description                  = "All traffic to members of ${each.key}"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.workload[each.key].id
}

resource "aws_vpc_security_group_egress_rule" "to_endpoints" {
  for_each                     = var.workloads
  security_group_id            = aws_security_group.workload[each.key].id
  description                  = "HTTPS to the interface VPC endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

resource "aws_vpc_security_group_egress_rule" "to_s3" {
  for_each          = var.workloads
  security_group_id = aws_security_group.workload[each.key].id
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

# With NAT, workloads reach public AWS endpoints (HTTPS only).
resource "aws_vpc_security_group_egress_rule" "https_via_nat" {
  for_each          = var.nat_gateway ? var.workloads : {}
  security_group_id = aws_security_group.workload[each.key].id
  description       = "HTTPS to AWS public endpoints through the NAT gateway"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# dbt on MWAA workers connects to Redshift Serverless.
resource "aws_vpc_security_group_egress_rule" "mwaa_to_redshift" {
  count                        = contains(keys(var.workloads), "mwaa") && contains(keys(var.workloads), "redshift") ? 1 : 0
  security_group_id            = aws_security_group.workload["mwaa"].id
  description                  = "Redshift from MWAA (dbt, ANALYZE)"
  ip_protocol                  = "tcp"
  from_port                    = 5439
  to_port                      = 5439
  referenced_security_group_id = aws_security_group.workload["redshift"].id
}

resource "aws_vpc_security_group_ingress_rule" "redshift_from_mwaa" {
  count                        = contains(keys(var.workloads), "mwaa") && contains(keys(var.workloads), "redshift") ? 1 : 0
  security_group_id            = aws_security_group.workload["redshift"].id
  description                  = "Redshift from MWAA (dbt, ANALYZE)"
  ip_protocol                  = "tcp"
  from_port                    = 5439
  to_port                      = 5439
  referenced_security_group_id = aws_security_group.workload["mwaa"].id
}

# --- flow logs -------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/aws/vpc/${var.name}/flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "flow_logs_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.flow_logs.arn}:*"]
  }
}

resource "aws_iam_role" "flow_logs" {
  name               = "${var.name}-vpc-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_trust.json
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

resource "aws_flow_log" "this" {
  vpc_id          = aws_vpc.this.id
  traffic_type    = "REJECT"
  log_destination = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn    = aws_iam_role.flow_logs.arn
}
