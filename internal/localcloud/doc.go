// Package localcloud is a local OpenStack-compatible cloud (Keystone, Nova,
// Cinder, Neutron, Octavia) whose servers are VM-like hosts on this machine
// and whose load balancers are real HAProxy processes. It imports no other
// package of this project.
package localcloud
