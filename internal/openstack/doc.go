// Package openstack wraps gophercloud: authentication, service clients,
// retries with backoff and one status waiter. It returns plain Go types.
package openstack
