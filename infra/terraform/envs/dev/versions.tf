terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Exact pin: the offline mirror and CI carry this version (see docs/deploy-aws.md).
      version = "5.100.0"
    }
  }
  # State: local by default. A team keeps it remote; see docs/deploy-aws.md for the
  # `backend "s3"` block and `terraform init -backend-config=...`.
}
