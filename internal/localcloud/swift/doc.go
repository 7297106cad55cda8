// Package swift serves the Swift object-store v1 API of the local cloud:
// accounts, containers and objects under /v1/AUTH_<project_id>, JSON and
// plain-text listings, metadata headers, ETag checks, ranged reads, static
// large objects and expiring objects. Object bytes and their metadata live in
// files under the service's state directory, so they survive a restart; an
// in-memory index of the metadata is rebuilt from those files at start.
package swift
