# Two data nodes in two zones and an arbitrator in a third: losing a zone
# leaves a data node and the arbitrator, a quorum of 2 of 3.
resource "pxc_cluster" "ledger" {
  name = "ledger"
  datastore = {
    type    = "mariadb"
    version = "10.11"
  }
  node_count         = 2
  flavor             = "m1.large"
  image              = "debian-12-mariadb-galera"
  network            = "private"
  volume             = { size = 50 }
  availability_zones = ["az1", "az2"]
  parameters = {
    innodb_buffer_pool_size = "4G"
  }
}

resource "pxc_lb_pool" "ledger" {
  cluster_id = pxc_cluster.ledger.id
}

# The witness: garbd on a small server, no volume, no MySQL.
resource "pxc_node" "witness" {
  cluster_id        = pxc_cluster.ledger.id
  role              = "arbitrator"
  flavor            = "m1.tiny"
  availability_zone = "az3"
  root_password     = pxc_cluster.ledger.root_password
  ssh_private_key   = pxc_cluster.ledger.generated_private_key
  parameters        = pxc_cluster.ledger.parameters
}

# A bigger data node for reporting (ledger-4): it joins from a donor that is
# not the writer and enters the load balancer's pool in the same apply.
resource "pxc_node" "reporting" {
  cluster_id      = pxc_cluster.ledger.id
  flavor          = "m1.xlarge"
  root_password   = pxc_cluster.ledger.root_password
  ssh_private_key = pxc_cluster.ledger.generated_private_key
  parameters      = pxc_cluster.ledger.parameters
  depends_on      = [pxc_node.witness, pxc_lb_pool.ledger]
}
