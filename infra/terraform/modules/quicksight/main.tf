# QuickSight on the Redshift marts, as code: a VPC connection into the private subnets, a
# Redshift data source whose credentials come from Secrets Manager, one SPICE dataset per
# dataset of dashboard.json (marts joined to their dimensions; the audit tables through
# Spectrum), and the dashboard with the visuals dashboard.json lists. dashboard.json is the one
# definition: the local dashboard (lakehouse/dashboard) draws the same visuals from it, and the
# tests check its columns against dbt's manifest. The DAG refreshes the datasets (SPICE
# ingestion) after each run's marts (dags/pipeline/quicksight.py).
#
# Needs a QuickSight Enterprise subscription in the account (a one-time, account-wide step,
# not managed here). Created only after the first green hour (quicksight.enabled in the deploy
# configuration, docs/deploy-aws.md): the datasets are ingested at creation, so the marts must
# exist. QuickSight logs in to Redshift as a read-only user (marts and the two Spectrum
# schemas) that Terraform creates with the admin secret, which no other role can read.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  spec     = jsondecode(file("${path.module}/dashboard.json"))
  datasets = local.spec.datasets

  # Every column a dataset exposes: its own, plus the joined dimension's except the join key.
  dataset_columns = {
    for key, ds in local.datasets : key => merge(
      ds.columns,
      try({ for col, type in ds.join.columns : col => type if col != ds.join.key }, {}),
    )
  }

  visuals = [
    for v in local.spec.visuals : {
      id          = v.id
      title       = v.title
      kind        = v.kind
      dataset     = v.dataset
      x           = v.x
      y           = v.y
      aggregation = v.aggregation
      color       = try(v.color, "")
      limit       = try(v.limit, 0)
      granularity = try(v.granularity, "DAY")
      # further measures on the same axes (the rate alarm's expected band and alarm points)
      extra_y = try(v.extra_y, [])
      x_type  = local.dataset_columns[v.dataset][v.x]
      y_type  = local.dataset_columns[v.dataset][v.y]
    }
  ]


  data_source_owner_actions = [
    "quicksight:DescribeDataSource", "quicksight:DescribeDataSourcePermissions", "quicksight:PassDataSource",
    "quicksight:UpdateDataSource", "quicksight:DeleteDataSource", "quicksight:UpdateDataSourcePermissions",
  ]
  data_set_owner_actions = [
    "quicksight:DescribeDataSet", "quicksight:DescribeDataSetPermissions", "quicksight:PassDataSet",
    "quicksight:DescribeIngestion", "quicksight:ListIngestions", "quicksight:CreateIngestion",
    "quicksight:CancelIngestion", "quicksight:UpdateDataSet", "quicksight:DeleteDataSet",
    "quicksight:UpdateDataSetPermissions",
  ]
  dashboard_owner_actions = [
    "quicksight:DescribeDashboard", "quicksight:ListDashboardVersions", "quicksight:QueryDashboard",
    "quicksight:UpdateDashboard", "quicksight:DeleteDashboard", "quicksight:UpdateDashboardPermissions",
    "quicksight:DescribeDashboardPermissions", "quicksight:UpdateDashboardPublishedVersion",
  ]
  dashboard_reader_actions = [
    "quicksight:DescribeDashboard", "quicksight:ListDashboardVersions", "quicksight:QueryDashboard",
  ]
}

# --- who: an author group owns everything, a reader group views the dashboard ---------------

resource "aws_quicksight_group" "authors" {
  group_name  = var.author_group
  namespace   = var.namespace
  description = "Owns the ${var.name} QuickSight data source, datasets and dashboard"
}

resource "aws_quicksight_group" "readers" {
  group_name  = var.reader_group
  namespace   = var.namespace
  description = "Views the ${var.name} orders dashboard"
}

# --- network: QuickSight reaches the private Redshift workgroup through a VPC connection -----

resource "aws_security_group" "quicksight" {
  name        = "${var.name}-quicksight"
  description = "QuickSight VPC connection: Redshift on 5439 only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "to_redshift" {
  security_group_id            = aws_security_group.quicksight.id
  description                  = "Redshift (QuickSight queries and SPICE ingestions)"
  ip_protocol                  = "tcp"
  from_port                    = var.redshift_port
  to_port                      = var.redshift_port
  referenced_security_group_id = var.redshift_security_group_id
}

# QuickSight's network interfaces are not stateful: the replies from Redshift need an inbound
# rule (AWS's QuickSight VPC guide: all TCP from the database's security group).
resource "aws_vpc_security_group_ingress_rule" "from_redshift" {
  #checkov:skip=CKV_AWS_24:The source is Redshift's security group, not an address range: no SSH from anywhere.
  #checkov:skip=CKV_AWS_25:The source is Redshift's security group, not an address range: no RDP from anywhere.
  #checkov:skip=CKV_AWS_260:The source is Redshift's security group, not an address range: no HTTP from anywhere.
  security_group_id            = aws_security_group.quicksight.id
  description                  = "Replies from Redshift (QuickSight network interfaces are not stateful)"
  ip_protocol                  = "tcp"
  from_port                    = 0
  to_port                      = 65535
  referenced_security_group_id = var.redshift_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "redshift_from_quicksight" {
  security_group_id            = var.redshift_security_group_id
  description                  = "Redshift from QuickSight's VPC connection"
  ip_protocol                  = "tcp"
  from_port                    = var.redshift_port
  to_port                      = var.redshift_port
  referenced_security_group_id = aws_security_group.quicksight.id
}

data "aws_iam_policy_document" "vpc_connection_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["quicksight.amazonaws.com"]
    }
  }
}

# What QuickSight does with this role: manage the connection's network interfaces.
data "aws_iam_policy_document" "vpc_connection" {
  statement {
    sid = "NetworkInterfaces"
    actions = [
      "ec2:CreateNetworkInterface", "ec2:ModifyNetworkInterfaceAttribute", "ec2:DeleteNetworkInterface",
    ]
    resources = concat(
      ["arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:network-interface/*"],
      [for id in var.subnet_ids : "arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:subnet/${id}"],
      ["arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:security-group/${aws_security_group.quicksight.id}"],
    )
  }
  statement {
    sid       = "Describe"
    actions   = ["ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]
    resources = ["*"] # Describe* cannot be scoped to resources
  }
}

resource "aws_iam_role" "vpc_connection" {
  name               = "${var.name}-quicksight-vpc"
  assume_role_policy = data.aws_iam_policy_document.vpc_connection_trust.json
}

resource "aws_iam_role_policy" "vpc_connection" {
  name   = "network-interfaces"
  role   = aws_iam_role.vpc_connection.id
  policy = data.aws_iam_policy_document.vpc_connection.json
}

resource "aws_quicksight_vpc_connection" "this" {
  vpc_connection_id  = var.name
  name               = "${var.name} private subnets"
  role_arn           = aws_iam_role.vpc_connection.arn
  subnet_ids         = var.subnet_ids
  security_group_ids = [aws_security_group.quicksight.id]
  depends_on         = [aws_iam_role_policy.vpc_connection]
}

# --- data: Redshift, credentials from Secrets Manager -----------------------------------------

resource "aws_quicksight_data_source" "redshift" {
  data_source_id = "${var.name}-redshift"
  name           = "${var.name} Redshift marts"
  type           = "REDSHIFT"

  parameters {
    redshift {
      host     = var.redshift_host
      port     = var.redshift_port
      database = var.redshift_database
    }
  }

  credentials {
    secret_arn = aws_secretsmanager_secret.reader.arn
  }

  vpc_connection_properties {
    vpc_connection_arn = aws_quicksight_vpc_connection.this.arn
  }

  ssl_properties {
    disable_ssl = false
  }

  permission {
    principal = aws_quicksight_group.authors.arn
    actions   = local.data_source_owner_actions
  }

  depends_on = [aws_iam_role_policy.secrets, aws_secretsmanager_secret_version.reader, aws_redshiftdata_statement.grant]
}

resource "aws_quicksight_data_set" "this" {
  for_each    = local.datasets
  data_set_id = "${var.name}-${each.key}"
  name        = each.value.name
  import_mode = "SPICE"

  # A mart, read as a table with the columns (and QuickSight types) dashboard.json lists.
  dynamic "physical_table_map" {
    for_each = try(each.value.mart, null) != null ? [each.value] : []
    content {
      physical_table_map_id = "mart"
      relational_table {
        data_source_arn = aws_quicksight_data_source.redshift.arn
        schema          = var.marts_schema
        name            = physical_table_map.value.mart
        dynamic "input_columns" {
          for_each = physical_table_map.value.columns
          content {
            name = input_columns.key
            type = input_columns.value
          }
        }
      }
    }
  }

  # The dimension a mart joins (its key renamed on this side, so the joined table has one of each).
  dynamic "physical_table_map" {
    for_each = try([each.value.join], [])
    content {
      physical_table_map_id = "dimension"
      relational_table {
        data_source_arn = aws_quicksight_data_source.redshift.arn
        schema          = var.marts_schema
        name            = physical_table_map.value.mart
        dynamic "input_columns" {
          for_each = physical_table_map.value.columns
          content {
            name = input_columns.key
            type = input_columns.value
          }
        }
      }
    }
  }

  # The audit tables, aggregated in SQL over the Spectrum external schemas.
  dynamic "physical_table_map" {
    for_each = try(each.value.sql, null) != null ? [each.value] : []
    content {
      physical_table_map_id = "sql"
      custom_sql {
        data_source_arn = aws_quicksight_data_source.redshift.arn
        name            = each.key
        sql_query       = replace(replace(physical_table_map.value.sql, "{audit}", var.audit_schema), "{bronze}", var.bronze_schema)
        dynamic "columns" {
          for_each = physical_table_map.value.columns
          content {
            name = columns.key
            type = columns.value
          }
        }
      }
    }
  }

  dynamic "logical_table_map" {
    for_each = try([each.value.join], [])
    content {
      logical_table_map_id = "mart"
      alias                = each.value.mart
      source {
        physical_table_id = "mart"
      }
    }
  }

  dynamic "logical_table_map" {
    for_each = try([each.value.join], [])
    content {
      logical_table_map_id = "dimension"
      alias                = logical_table_map.value.mart
      source {
        physical_table_id = "dimension"
      }
      data_transforms {
        rename_column_operation {
          column_name     = logical_table_map.value.key
          new_column_name = "${logical_table_map.value.key}_${logical_table_map.value.mart}"
        }
      }
    }
  }

  dynamic "logical_table_map" {
    for_each = try([each.value.join], [])
    content {
      logical_table_map_id = "joined"
      alias                = each.key
      source {
        join_instruction {
          left_operand  = "mart"
          right_operand = "dimension"
          type          = "LEFT"
          on_clause     = "{${logical_table_map.value.key}} = {${logical_table_map.value.key}_${logical_table_map.value.mart}}"
        }
      }
    }
  }

  permissions {
    principal = aws_quicksight_group.authors.arn
    actions   = local.data_set_owner_actions
  }
}

# --- the dashboard: one sheet, the visuals of dashboard.json ------------------------------------

resource "aws_quicksight_dashboard" "orders" {
  dashboard_id        = "${var.name}-orders"
  name                = "Orders lakehouse (${var.name})"
  version_description = "dashboard.json ${substr(sha256(file("${path.module}/dashboard.json")), 0, 12)}"

  definition {
    dynamic "data_set_identifiers_declarations" {
      for_each = local.datasets
      content {
        identifier   = data_set_identifiers_declarations.key
        data_set_arn = aws_quicksight_data_set.this[data_set_identifiers_declarations.key].arn
      }
    }

    sheets {
      sheet_id = "orders"
      name     = "Orders"

      dynamic "visuals" {
        for_each = local.visuals
        content {
          dynamic "line_chart_visual" {
            for_each = visuals.value.kind == "line" ? [visuals.value] : []
            iterator = v
            content {
              visual_id = v.value.id
              title {
                format_text {
                  plain_text = v.value.title
                }
              }
              chart_configuration {
                field_wells {
                  line_chart_aggregated_field_wells {
                    category {
                      date_dimension_field {
                        field_id         = "${v.value.id}-x"
                        date_granularity = v.value.granularity
                        column {
                          data_set_identifier = v.value.dataset
                          column_name         = v.value.x
                        }
                      }
                    }
                    values {
                      numerical_measure_field {
                        field_id = "${v.value.id}-y"
                        column {
                          data_set_identifier = v.value.dataset
                          column_name         = v.value.y
                        }
                        aggregation_function {
                          simple_numerical_aggregation = v.value.aggregation
                        }
                      }
                    }
                    dynamic "values" {
                      for_each = v.value.extra_y
                      content {
                        numerical_measure_field {
                          field_id = "${v.value.id}-${values.value}"
                          column {
                            data_set_identifier = v.value.dataset
                            column_name         = values.value
                          }
                          aggregation_function {
                            simple_numerical_aggregation = v.value.aggregation
                          }
                        }
                      }
                    }
                    dynamic "colors" {
                      for_each = v.value.color != "" ? [v.value] : []
                      content {
                        categorical_dimension_field {
                          field_id = "${v.value.id}-color"
                          column {
                            data_set_identifier = v.value.dataset
                            column_name         = v.value.color
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          }

          dynamic "bar_chart_visual" {
            for_each = visuals.value.kind == "bar" ? [visuals.value] : []
            iterator = v
            content {
              visual_id = v.value.id
              title {
                format_text {
                  plain_text = v.value.title
                }
              }
              chart_configuration {
                orientation      = v.value.limit > 0 ? "HORIZONTAL" : "VERTICAL"
                bars_arrangement = v.value.color != "" && v.value.aggregation == "SUM" ? "STACKED" : "CLUSTERED"
                field_wells {
                  bar_chart_aggregated_field_wells {
                    category {
                      dynamic "date_dimension_field" {
                        for_each = v.value.x_type == "DATETIME" ? [v.value] : []
                        content {
                          field_id         = "${v.value.id}-x"
                          date_granularity = v.value.granularity
                          column {
                            data_set_identifier = v.value.dataset
                            column_name         = v.value.x
                          }
                        }
                      }
                      dynamic "categorical_dimension_field" {
                        for_each = v.value.x_type != "DATETIME" ? [v.value] : []
                        content {
                          field_id = "${v.value.id}-x"
                          column {
                            data_set_identifier = v.value.dataset
                            column_name         = v.value.x
                          }
                        }
                      }
                    }
                    values {
                      dynamic "numerical_measure_field" {
                        for_each = v.value.y_type != "STRING" ? [v.value] : []
                        content {
                          field_id = "${v.value.id}-y"
                          column {
                            data_set_identifier = v.value.dataset
                            column_name         = v.value.y
                          }
                          aggregation_function {
                            simple_numerical_aggregation = v.value.aggregation
                          }
                        }
                      }
                      dynamic "categorical_measure_field" {
                        for_each = v.value.y_type == "STRING" ? [v.value] : []
                        content {
                          field_id             = "${v.value.id}-y"
                          aggregation_function = v.value.aggregation
                          column {
                            data_set_identifier = v.value.dataset
                            column_name         = v.value.y
                          }
                        }
                      }
                    }
                    dynamic "colors" {
                      for_each = v.value.color != "" ? [v.value] : []
                      content {
                        categorical_dimension_field {
                          field_id = "${v.value.id}-color"
                          column {
                            data_set_identifier = v.value.dataset
                            column_name         = v.value.color
                          }
                        }
                      }
                    }
                  }
                }
                dynamic "sort_configuration" {
                  for_each = v.value.limit > 0 ? [v.value] : []
                  content {
                    category_items_limit {
                      items_limit      = sort_configuration.value.limit
                      other_categories = "EXCLUDE"
                    }
                    category_sort {
                      field_sort {
                        field_id  = "${sort_configuration.value.id}-y"
                        direction = "DESC"
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  permissions {
    principal = aws_quicksight_group.authors.arn
    actions   = local.dashboard_owner_actions
  }

  permissions {
    principal = aws_quicksight_group.readers.arn
    actions   = local.dashboard_reader_actions
  }

  dashboard_publish_options {
    ad_hoc_filtering_option {
      availability_status = "ENABLED"
    }
    export_to_csv_option {
      availability_status = "ENABLED"
    }
  }
}
