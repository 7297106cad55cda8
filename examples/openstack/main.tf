# The same cluster on a real OpenStack cloud. Credentials come from
# clouds.yaml (cloud = "...") or the usual OS_* environment variables.
terraform {
  required_providers {
    pxc = {
      source = "pxc-provider/pxc"
    }
  }
}

variable "cloud" {
  type        = string
  description = "Entry in clouds.yaml."
}

variable "flavor" {
  type    = string
  default = "m1.medium"
}

variable "image" {
  type        = string
  description = "A Debian or Ubuntu image; with install_packages the provider installs MariaDB Galera itself."
}

variable "network" {
  type = string
}

variable "ssh_user" {
  type        = string
  default     = "debian"
  description = "The image's login user; it needs password-less sudo."
}

variable "app_cidrs" {
  type        = list(string)
  description = "Networks whose applications may reach MySQL."
}

provider "pxc" {
  cloud = var.cloud
}

resource "pxc_cluster" "db" {
  name = "db"

  datastore = {
    type    = "mariadb"
    version = "10.11"
  }
  node_count         = 3
  flavor             = var.flavor
  image              = var.image
  network            = var.network
  availability_zones = ["az1", "az2", "az3"]
  anti_affinity      = "anti-affinity"
  install_packages   = true

  volume = {
    size = 50
  }

  ssh = {
    user = var.ssh_user
    # host_key_check = "console" (the default) trusts only the fingerprints
    # cloud-init prints on each server's console.
  }

  allowed_cidrs = var.app_cidrs

  timeouts = {
    create = "90m"
  }
}

output "ips" {
  value = pxc_cluster.db.ips
}
