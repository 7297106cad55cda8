// Package provider is the Terraform layer of terraform-provider-pxc: provider
// configuration, resource and data source schemas, plan checks and state.
// It translates plans into cluster specs and calls internal/cluster; it never
// talks to OpenStack or to guests directly.
//
// Every resource has the same files: <name>_resource.go (the CRUD methods),
// <name>_schema.go, <name>_model.go (tfsdk models and their conversions),
// <name>_changes.go (what changing each attribute does: in place, rolling,
// replace or refused, read by the schema and by ModifyPlan) and tests; a data
// source has <name>_data_source.go, _data_source_schema.go and
// _data_source_model.go. The wording of every diagnostic is in
// diagnostics.go; logging.go bridges the lower layers' loggers to tflog.
package provider
