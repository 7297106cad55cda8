# A backup taken now, e.g. before a migration. It stays in the store when
# this resource is destroyed only with retain_on_destroy.
resource "pxc_backup" "before_migration" {
  cluster_id      = pxc_cluster.db.id
  backup          = pxc_cluster.db.backup
  root_password   = pxc_cluster.db.root_password
  ssh_private_key = pxc_cluster.db.generated_private_key

  retain_on_destroy = true
}

# A new cluster from that backup.
resource "pxc_cluster" "copy" {
  name      = "db-copy"
  datastore = { type = "mariadb", version = "10.11" }
  flavor    = "m1.medium"
  image     = "debian-12-mariadb-galera"
  network   = "private"
  volume    = { size = 20 }

  restore_from = {
    container = pxc_cluster.db.backup.container
    backup_id = pxc_backup.before_migration.id
    key       = pxc_cluster.db.backup.key
  }
}
