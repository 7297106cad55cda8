resource "pxc_cluster" "example" {
  name = "orders"

  datastore = {
    type    = "percona"
    version = "8.0"
  }
  node_count = 3

  flavor  = "m1.medium"
  image   = "ubuntu-22.04-pxc80"
  network = "private"
  volume = {
    size = 100
    type = "ssd"
  }

  availability_zones = ["az1", "az2", "az3"]
  allowed_cidrs      = ["10.0.10.0/24"]

  parameters = {
    max_connections = "500"
  }

  # The address applications use: load_balancer.vip_address.
  load_balancer = {
    mode = "single_writer"
  }
}
