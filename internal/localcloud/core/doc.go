// Package core is what every service of the local cloud shares: ids, the
// wire time formats, JSON in and out, the error answer of each service
// (Keystone, Nova/Cinder, Glance, Neutron), microversion negotiation and
// creation-order listing. It holds no state and imports no service.
package core
