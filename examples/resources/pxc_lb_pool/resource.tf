resource "pxc_lb_pool" "orders" {
  cluster_id = pxc_cluster.example.id
  mode       = "single_writer"
}

output "orders_address" {
  value = "${pxc_lb_pool.orders.vip_address}:3306"
}
