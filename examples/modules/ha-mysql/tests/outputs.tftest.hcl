# The outputs carry what the resources report, after an apply against a
# mocked provider (fixed values below instead of a cloud).
mock_provider "pxc" {
  mock_resource "pxc_cluster" {
    defaults = {
      id                    = "0b6f3c3e-3b7e-4c1a-9f52-2f6d1d8c9a10"
      ips                   = ["10.0.0.11", "10.0.0.12", "10.0.0.13"]
      status                = "ACTIVE"
      security_group_id     = "5d0e8f2a-6c1b-4a8e-b3a4-7f9e2c1d0b11"
      root_password         = "mocked-root-password"
      generated_private_key = "mocked-private-key"
    }
  }
  mock_resource "pxc_lb_pool" {
    defaults = {
      load_balancer_id = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
      vip_address      = "10.0.0.100"
    }
  }
}

variables {
  name    = "orders"
  flavor  = "m1.large"
  image   = "debian-12-mariadb"
  network = "private"
}

run "outputs_without_floating_ip" {
  # The mock has no floating IP to report: as the provider does without
  # floating_ip_network, it is null.
  override_resource {
    target = pxc_lb_pool.this
    values = {
      load_balancer_id    = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
      vip_address         = "10.0.0.100"
      floating_ip_address = null
    }
  }

  assert {
    condition     = output.cluster_id == "0b6f3c3e-3b7e-4c1a-9f52-2f6d1d8c9a10"
    error_message = "cluster_id must be the cluster's id."
  }
  assert {
    condition     = pxc_lb_pool.this.cluster_id == output.cluster_id
    error_message = "The pool must front the module's cluster."
  }
  assert {
    condition     = output.host == "10.0.0.100" && output.vip_address == "10.0.0.100"
    error_message = "Without a floating IP, applications must connect to the VIP."
  }
  assert {
    condition     = output.floating_ip_address == null
    error_message = "floating_ip_address must be null without a floating IP."
  }
  assert {
    condition     = output.port == 3306
    error_message = "port must be the pool's port."
  }
  assert {
    condition     = output.node_ips == tolist(["10.0.0.11", "10.0.0.12", "10.0.0.13"])
    error_message = "node_ips must be the cluster's IPs in node order."
  }
  assert {
    condition     = output.load_balancer_id == "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d" && output.security_group_id == "5d0e8f2a-6c1b-4a8e-b3a4-7f9e2c1d0b11"
    error_message = "load_balancer_id and security_group_id must come from the resources."
  }
  assert {
    condition     = output.status == "ACTIVE"
    error_message = "status must be the cluster's status."
  }
  assert {
    condition     = nonsensitive(output.root_password) == "mocked-root-password" && nonsensitive(output.generated_private_key) == "mocked-private-key"
    error_message = "The secrets must be passed through (as sensitive outputs)."
  }
}
