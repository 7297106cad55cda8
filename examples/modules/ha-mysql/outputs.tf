output "cluster_id" {
  description = "The `pxc_cluster` id (the `pxc_cluster_id` metadata of every server)."
  value       = pxc_cluster.this.id
}

output "host" {
  description = "The address applications connect to: the floating IP when one was asked for, else the load balancer's address."
  value       = coalesce(pxc_lb_pool.this.floating_ip_address, pxc_lb_pool.this.vip_address)
}

output "port" {
  description = "The TCP port applications connect to."
  value       = pxc_lb_pool.this.port
}

output "vip_address" {
  description = "The load balancer's address on the cluster's network."
  value       = pxc_lb_pool.this.vip_address
}

output "floating_ip_address" {
  description = "The floating IP of the load balancer's address, null without `floating_ip_network`."
  value       = pxc_lb_pool.this.floating_ip_address
}

output "load_balancer_id" {
  description = "The Octavia load balancer id (the `pxc_lb_pool` import id)."
  value       = pxc_lb_pool.this.load_balancer_id
}

output "node_ips" {
  description = "The nodes' fixed IPs in node order."
  value       = pxc_cluster.this.ips
}

output "security_group_id" {
  description = "The security group the provider made for the nodes."
  value       = pxc_cluster.this.security_group_id
}

output "status" {
  description = "`ACTIVE` when every node is Synced and Primary, `DEGRADED` or `UNKNOWN` otherwise."
  value       = pxc_cluster.this.status
}

output "root_password" {
  description = "Password of the database `root` account."
  value       = pxc_cluster.this.root_password
  sensitive   = true
}

output "generated_private_key" {
  description = "Private key of the generated keypair (empty when `key_pair` was given)."
  value       = pxc_cluster.this.generated_private_key
  sensitive   = true
}
