// Package glance is the local cloud's image service (Glance v2): this
// machine's Debian with MariaDB Galera installed, as an image and as a
// stand-in point release of it (same content, another ID), listed and shown.
package glance
