// Package cluster orchestrates the lifecycle of a Galera cluster on OpenStack:
// provision cloud objects, configure guests, bootstrap, join, gate; read back
// and delete. It holds no Terraform types.
package cluster
