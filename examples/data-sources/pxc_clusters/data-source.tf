data "pxc_clusters" "all" {}

output "cluster_names" {
  value = [for c in data.pxc_clusters.all.clusters : c.name]
}
