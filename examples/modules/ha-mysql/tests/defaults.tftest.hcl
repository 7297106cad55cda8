# What the module plans when only the required inputs are given, and how
# optional inputs reach the resources. Runs offline: the provider is mocked.
mock_provider "pxc" {}

variables {
  name    = "orders"
  flavor  = "m1.large"
  image   = "debian-12-mariadb"
  network = "private"
}

run "defaults" {
  command = plan

  assert {
    condition     = pxc_cluster.this.name == "orders"
    error_message = "The cluster must take the module's name."
  }
  assert {
    condition     = pxc_cluster.this.datastore.type == "mariadb" && pxc_cluster.this.datastore.version == "10.11"
    error_message = "The default datastore must be MariaDB 10.11."
  }
  assert {
    condition     = pxc_cluster.this.node_count == 3
    error_message = "The default cluster must have 3 nodes."
  }
  assert {
    condition     = pxc_cluster.this.volume.size == 20 && pxc_cluster.this.volume.type == null
    error_message = "The default volume must be 20 GiB of the cloud's default type."
  }
  assert {
    condition     = pxc_cluster.this.anti_affinity == "anti-affinity"
    error_message = "Nodes must be kept on distinct hypervisors by default."
  }
  assert {
    condition     = pxc_cluster.this.ssh.host_key_check == "console"
    error_message = "Host keys must be checked against the Nova console by default."
  }
  assert {
    condition     = pxc_cluster.this.availability_zones == null && pxc_cluster.this.allowed_cidrs == null && pxc_cluster.this.parameters == null
    error_message = "Empty lists and maps must reach the provider as null (its own defaults), not as empty values."
  }
  assert {
    condition     = pxc_cluster.this.install_packages == false && pxc_cluster.this.failure_detection_timeout == 3
    error_message = "install_packages must default to false and failure_detection_timeout to 3 s."
  }
  assert {
    condition     = pxc_lb_pool.this.mode == "single_writer" && pxc_lb_pool.this.health_check == "galera"
    error_message = "The pool must be single-writer with the Galera health check."
  }
  assert {
    condition     = pxc_lb_pool.this.port == 3306
    error_message = "The pool must listen on 3306 by default."
  }
  assert {
    condition     = pxc_lb_pool.this.floating_ip_network == null
    error_message = "No floating IP may be made unless asked for."
  }
}

run "optional_inputs_reach_the_resources" {
  command = plan

  variables {
    datastore_type      = "percona"
    datastore_version   = "8.0"
    node_count          = 5
    volume_size         = 100
    volume_type         = "ssd"
    availability_zones  = ["az1", "az2", "az3"]
    allowed_cidrs       = ["10.0.0.0/24"]
    parameters          = { innodb_buffer_pool_size = "4G" }
    install_packages    = true
    port                = 6033
    floating_ip_network = "public"
  }

  assert {
    condition     = pxc_cluster.this.datastore.type == "percona" && pxc_cluster.this.datastore.version == "8.0"
    error_message = "The datastore inputs must reach the cluster."
  }
  assert {
    condition     = pxc_cluster.this.node_count == 5 && pxc_cluster.this.volume.size == 100 && pxc_cluster.this.volume.type == "ssd"
    error_message = "node_count and the volume inputs must reach the cluster."
  }
  assert {
    condition     = pxc_cluster.this.availability_zones == tolist(["az1", "az2", "az3"]) && pxc_cluster.this.allowed_cidrs == tolist(["10.0.0.0/24"])
    error_message = "availability_zones and allowed_cidrs must reach the cluster."
  }
  assert {
    condition     = pxc_cluster.this.parameters["innodb_buffer_pool_size"] == "4G" && pxc_cluster.this.install_packages
    error_message = "parameters and install_packages must reach the cluster."
  }
  assert {
    condition     = pxc_lb_pool.this.port == 6033 && pxc_lb_pool.this.floating_ip_network == "public"
    error_message = "port and floating_ip_network must reach the pool."
  }
}

run "empty_floating_ip_network_means_none" {
  command = plan
  variables {
    floating_ip_network = ""
  }
  assert {
    condition     = pxc_lb_pool.this.floating_ip_network == null
    error_message = "An empty floating_ip_network must make no floating IP."
  }
}
