//go:build generate

// Package tools pins the code generators this project runs (tfplugindocs).
// It is a separate Go module so generator dependencies stay out of the
// provider's go.mod.
package tools

import (
	// Documentation generation.
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)
