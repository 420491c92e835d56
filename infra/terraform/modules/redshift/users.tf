# The database side of the first apply, run by Terraform through the Redshift Data API with the
# admin secret (which only the principal running Terraform can read; no role of the stack is
# granted it). dbt on MWAA and the ANALYZE task log in with IAM as IAMR:<MWAA execution role>:
# that user is created here (Redshift would create it at its first login, too late for grants),
# may create the marts' schemas, and reads silver through the Spectrum schema made here.
# Nothing here depends on the marts: they appear with the first green hour.

locals {
  iam_user = "IAMR:${var.mwaa_role_name}"
  create_sql = {
    pipeline_user = "CREATE USER \"${local.iam_user}\" PASSWORD DISABLE"
    silver_schema = "CREATE EXTERNAL SCHEMA IF NOT EXISTS ${var.spectrum_schema} FROM DATA CATALOG DATABASE '${var.silver_glue_database}' IAM_ROLE '${aws_iam_role.spectrum.arn}'"
  }
  grant_sql = {
    create_schemas = "GRANT CREATE ON DATABASE ${var.database} TO \"${local.iam_user}\""
    silver_usage   = "GRANT USAGE ON SCHEMA ${var.spectrum_schema} TO \"${local.iam_user}\""
  }
}

resource "aws_redshiftdata_statement" "create" {
  for_each       = local.create_sql
  workgroup_name = aws_redshiftserverless_workgroup.this.workgroup_name
  database       = var.database
  secret_arn     = aws_redshiftserverless_namespace.this.admin_password_secret_arn
  sql            = each.value
  depends_on     = [aws_iam_role_policy.spectrum]
}

resource "aws_redshiftdata_statement" "grant" {
  for_each       = local.grant_sql
  workgroup_name = aws_redshiftserverless_workgroup.this.workgroup_name
  database       = var.database
  secret_arn     = aws_redshiftserverless_namespace.this.admin_password_secret_arn
  sql            = each.value
  depends_on     = [aws_redshiftdata_statement.create]
}
