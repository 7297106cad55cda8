// Package openstack wraps gophercloud: authentication, service clients,
// retries with backoff and one status waiter. It returns plain Go types.
//
// A Client authenticates lazily, on the first call that needs the cloud, and
// remembers a failed authentication (an *AuthError saying why: rejected,
// unreachable, TLS...). Service clients are pinned to ComputeMicroversion and
// BlockStorageMicroversion; a service missing from the catalog is a
// *ServiceMissingError. Every request goes through a transport that retries
// 429/502/503/504 (honouring Retry-After, up to Config.MaxRetries) and logs
// to the Logger the caller supplies (WithLogger) with tokens, passwords and
// keys masked; this package knows no Terraform.
//
// Helpers (CreateServer, SetPoolMembers, ...) wrap errors with the object and
// the action, treat 404 on delete as done, and wait for the state that makes
// the change real: ACTIVE servers, available volumes, ACTIVE load balancers
// after every Octavia change (a 409 there means "wait and retry"). Waits are
// bounded by the caller's context: pass one with the resource's timeout.
package openstack
