package cinder

import (
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// Service serves Cinder v3 below /volume/v3/{project_id}: volumes on loop
// devices, their types and availability zones. Attaching is Nova's
// os-volume_attachments.
type Service struct {
	*state.Store
	baseURL string   // the API listener, for links
	zones   []string // availability zones volumes may be created in
	authed  core.Authed
}

// New builds the block-storage service over the shared store.
func New(st *state.Store, baseURL string, zones []string, authed core.Authed) *Service {
	return &Service{Store: st, baseURL: baseURL, zones: zones, authed: authed}
}
