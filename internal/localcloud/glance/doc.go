// Package glance is the local cloud's image service (Glance v2): one image,
// this machine's Debian with MariaDB Galera installed, listed and shown.
package glance
