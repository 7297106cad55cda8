// Package nova is the local cloud's compute service (Nova 2.1-2.79):
// flavors, keypairs, server groups, availability zones, limits and servers.
// A server is a host on this machine (package host) that goes BUILD ->
// ACTIVE only once its sshd answers with the console's host key; actions,
// console output, metadata, tags and volume attachments act on it.
package nova
