output "buckets" {
  description = "Bucket names by purpose: raw, lake, artifacts, mwaa, logs."
  value = {
    raw       = module.raw.name
    lake      = module.lake.name
    artifacts = module.artifacts.name
    mwaa      = module.mwaa.name
    logs      = module.logs.name
  }
}

output "bucket_arns" {
  description = "Bucket ARNs by purpose."
  value = {
    raw       = module.raw.arn
    lake      = module.lake.arn
    artifacts = module.artifacts.arn
    mwaa      = module.mwaa.arn
    logs      = module.logs.arn
  }
}
