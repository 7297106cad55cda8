# A cluster is imported by its id, the pxc_cluster_id metadata of its servers.
terraform import pxc_cluster.example 0d5e8f3a-6a8e-4c6f-9d7e-4a5b2c1d0e9f
