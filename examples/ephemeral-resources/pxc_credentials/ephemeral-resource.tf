# A temporary account for the MySQL provider, through the single-writer
# pool: it exists while Terraform runs and is dropped when the run ends.
# Its password is in neither the plan nor the state.
ephemeral "pxc_credentials" "admin" {
  cluster_id      = pxc_cluster.db.id
  root_password   = pxc_cluster.db.root_password
  ssh_private_key = pxc_cluster.db.generated_private_key

  grants = [
    { privileges = ["ALL PRIVILEGES"], on = "app.*" },
    { privileges = ["CREATE USER"], on = "*.*" },
  ]
  ttl = "30m"

  address = pxc_lb_pool.writer.vip_address
  port    = pxc_lb_pool.writer.port
}

# Provider blocks accept ephemeral values (Terraform 1.10+, OpenTofu 1.11+).
provider "mysql" {
  endpoint = "${ephemeral.pxc_credentials.admin.host}:${ephemeral.pxc_credentials.admin.port}"
  username = ephemeral.pxc_credentials.admin.username
  password = ephemeral.pxc_credentials.admin.password
}

resource "mysql_database" "app" {
  name = "app"
}
