// Package cluster orchestrates the lifecycle of a Galera cluster on OpenStack:
// provision cloud objects, configure guests, bootstrap, join, gate; read back
// and delete. It holds no Terraform types. It reaches the cloud and the
// guests only through the interfaces in manager.go, so it is unit-tested
// against in-memory fakes; provision.go makes one node's cloud objects and
// guests.go bridges to the guest library.
package cluster
