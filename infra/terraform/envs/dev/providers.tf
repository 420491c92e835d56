provider "aws" {
  region = local.cfg.aws_region

  default_tags {
    tags = local.tags
  }
}
