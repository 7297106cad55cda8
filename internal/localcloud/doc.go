// Package localcloud is a local OpenStack-compatible cloud (Keystone, Nova,
// Glance, Cinder, Neutron, Octavia) whose servers are VM-like hosts on this
// machine and whose load balancers are real HAProxy processes. It imports no
// other package of this project.
//
// This package is the composition root: Start builds the shared store
// (package state), one package per service over it (keystone, nova, glance,
// cinder, neutron, octavia), the HTTP listener that routes to them, and the
// admin API tests and demos drive.
package localcloud
