terraform {
  # terraform test with mock_provider needs Terraform 1.7 or OpenTofu 1.8.
  required_version = ">= 1.7.0"

  required_providers {
    pxc = {
      source = "pxc-provider/pxc"
    }
  }
}
