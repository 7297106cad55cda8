data "pxc_backups" "db" {
  cluster_id      = pxc_cluster.db.id
  backup          = pxc_cluster.db.backup
  root_password   = pxc_cluster.db.root_password
  ssh_private_key = pxc_cluster.db.generated_private_key
}

output "newest_backup" {
  value = data.pxc_backups.db.backups[length(data.pxc_backups.db.backups) - 1].id
}
