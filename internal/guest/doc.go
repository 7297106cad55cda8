// Package guest turns freshly booted servers into a verified Galera cluster
// over SSH: transport, configuration rendering, bootstrap, join, membership
// gate and recovery. It is usable without Terraform.
package guest
