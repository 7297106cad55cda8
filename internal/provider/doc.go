// Package provider is the Terraform layer of terraform-provider-pxc: provider
// configuration, resource and data source schemas, plan checks and state.
// It translates plans into cluster specs and calls internal/cluster; it never
// talks to OpenStack or to guests directly.
package provider
