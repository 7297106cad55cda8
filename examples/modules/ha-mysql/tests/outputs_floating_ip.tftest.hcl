# With a floating IP, applications get the floating IP as host. A file of
# its own: each file starts from an empty state, so the pool is created
# here with the floating IP rather than updated to one.
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

run "host_is_the_floating_ip_when_there_is_one" {
  variables {
    floating_ip_network = "public"
    port                = 6033
  }
  override_resource {
    target = pxc_lb_pool.this
    values = {
      vip_address         = "10.0.0.100"
      floating_ip_address = "203.0.113.7"
    }
  }

  assert {
    condition     = output.host == "203.0.113.7" && output.floating_ip_address == "203.0.113.7"
    error_message = "With a floating IP, applications must connect to it."
  }
  assert {
    condition     = output.vip_address == "10.0.0.100"
    error_message = "vip_address must stay the VIP."
  }
  assert {
    condition     = output.port == 6033
    error_message = "port must follow the port input."
  }
}
