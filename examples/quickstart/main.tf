# A 3-node MariaDB Galera cluster on the local OpenStack-compatible cloud.
# `make demo` starts the local cloud, points OS_CLIENT_CONFIG_FILE at
# .localcloud/clouds.yaml and applies this directory.
terraform {
  required_providers {
    pxc = {
      source = "pxc-provider/pxc"
    }
  }
}

provider "pxc" {
  cloud = "local"
}

variable "allowed_cidrs" {
  type        = list(string)
  default     = []
  description = "Networks that may log in to MySQL: `make demo` passes the local cloud's subnet, where this machine and the load balancer are."
}

resource "pxc_cluster" "demo" {
  name = "demo"

  datastore = {
    type    = "mariadb"
    version = "10.11"
  }
  node_count = 3

  flavor  = "m1.small"
  image   = "debian-12-mariadb-galera"
  network = "private"
  volume = {
    size = 1
  }

  # rsync is the quickest state transfer for an empty demo database;
  # mariabackup (the default) keeps the donor writable on real data.
  sst_method = "rsync"

  # Small buffers: three database servers share this machine.
  parameters = {
    innodb_buffer_pool_size = "64M"
  }

  allowed_cidrs = var.allowed_cidrs

  # One address for applications: every connection goes to one Synced
  # node (single_writer), elected by the nodes' health check. Octavia
  # builds it while the servers boot.
  load_balancer = {
    mode = "single_writer"
  }
}

output "vip_address" {
  value = pxc_cluster.demo.load_balancer.vip_address
}

output "cluster_id" {
  value = pxc_cluster.demo.id
}

output "ips" {
  value = pxc_cluster.demo.ips
}

output "status" {
  value = pxc_cluster.demo.status
}

output "nodes" {
  value = [for n in pxc_cluster.demo.nodes : "${n.name} ${n.ip} ${n.wsrep_local_state} size=${n.wsrep_cluster_size}"]
}

output "root_password" {
  value     = pxc_cluster.demo.root_password
  sensitive = true
}

output "private_key" {
  value     = pxc_cluster.demo.generated_private_key
  sensitive = true
}
