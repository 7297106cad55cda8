# A highly available MySQL-compatible database: a Galera cluster of
# node_count servers and one load balancer address in single-writer mode, so
# applications get the consistency of a single primary and the availability
# of a cluster.
#
# Flavor, image and network are taken by name or id: the pxc provider
# resolves them when it plans (a typo fails the plan, not the apply), so
# this module needs no OpenStack provider next to it.

locals {
  # A floating IP is made only when an external network is named.
  floating_ip_network = var.floating_ip_network == "" ? null : var.floating_ip_network
}

resource "pxc_cluster" "this" {
  name = var.name

  datastore = {
    type    = var.datastore_type
    version = var.datastore_version
  }
  node_count = var.node_count

  flavor  = var.flavor
  image   = var.image
  network = var.network
  volume = {
    size = var.volume_size
    type = var.volume_type
  }

  availability_zones = length(var.availability_zones) == 0 ? null : var.availability_zones
  anti_affinity      = var.anti_affinity

  key_pair = var.key_pair
  ssh = {
    user             = var.ssh_user
    private_key      = var.ssh_private_key
    host_key_check   = var.ssh_host_key_check
    known_hosts_file = var.ssh_known_hosts_file
    source_cidrs     = length(var.ssh_source_cidrs) == 0 ? null : var.ssh_source_cidrs
  }

  root_password             = var.root_password
  sst_method                = var.sst_method
  parameters                = length(var.parameters) == 0 ? null : var.parameters
  allowed_cidrs             = length(var.allowed_cidrs) == 0 ? null : var.allowed_cidrs
  failure_detection_timeout = var.failure_detection_timeout
  install_packages          = var.install_packages
}

# Every new connection goes to one Synced node, elected by the nodes' own
# Galera health check, so writes never race on two nodes.
resource "pxc_lb_pool" "this" {
  cluster_id          = pxc_cluster.this.id
  mode                = "single_writer"
  health_check        = "galera"
  port                = var.port
  vip_subnet_id       = var.vip_subnet_id
  floating_ip_network = local.floating_ip_network
}
