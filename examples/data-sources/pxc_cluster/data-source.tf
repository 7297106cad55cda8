data "pxc_cluster" "orders" {
  name = "orders"

  # Optional: ask every node for its live Galera state.
  ssh_private_key = file("~/.ssh/orders")
  root_password   = var.orders_root_password
}

output "orders_nodes" {
  value = data.pxc_cluster.orders.nodes
}
