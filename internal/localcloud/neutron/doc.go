// Package neutron is the local cloud's network service (Neutron v2.0): the
// one private network and the external one, ports, security groups and
// rules enforced with nftables in each host's namespace, floating IPs NATed
// on the owner of the fixed address, and the tags API. Errors have
// Neutron's {"NeutronError": ...} body.
package neutron
