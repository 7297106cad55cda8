// Package keystone is the local cloud's identity service (Keystone v3):
// password and application-credential authentication, token validation and
// revocation, the service catalogue, and the token check every other
// service's handlers go through (Authed), answering 401 as
// keystonemiddleware does.
package keystone
