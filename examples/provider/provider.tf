# Credentials from clouds.yaml: the same entry the openstack CLI uses.
provider "pxc" {
  cloud = "mycloud"
}

# Or everything spelled out (each setting also has an OS_* variable).
provider "pxc" {
  alias               = "explicit"
  auth_url            = "https://keystone.example.com:5000/v3"
  region              = "RegionOne"
  user_name           = "demo"
  password            = var.openstack_password
  tenant_name         = "demo"
  user_domain_name    = "Default"
  project_domain_name = "Default"
}

variable "openstack_password" {
  type      = string
  sensitive = true
}
