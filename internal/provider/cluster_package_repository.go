package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// packageRepositoryModel is pxc_cluster.package_repository: the apt
// repository install_packages installs from besides the image's sources
// (Percona's; Debian does not carry Percona XtraDB Cluster).
type packageRepositoryModel struct {
	URL        types.String `tfsdk:"url"`
	Key        types.String `tfsdk:"key"`
	Suite      types.String `tfsdk:"suite"`
	Components types.List   `tfsdk:"components"`
}

func packageRepositoryAttribute() schema.Attribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "An apt repository added on every node before `install_packages` installs, as an operator adds " +
			"Percona's: its key goes to `/etc/apt/keyrings` and a `signed-by` sources entry trusts only that key for it. " +
			"Only read while a node is being built. MariaDB needs none (Debian and Ubuntu carry it).",
		Attributes: map[string]schema.Attribute{
			"url": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Repository root. Default for `percona`: Percona's repository of the datastore's version, " +
					"`http://repo.percona.com/pxc-80/apt` (8.0) or `http://repo.percona.com/pxc-57/apt` (5.7); required for `mariadb`.",
			},
			"key": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "ASCII-armored OpenPGP public key that signs the repository (`-----BEGIN PGP PUBLIC KEY BLOCK-----`), obtained and checked by you.",
			},
			"suite": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Distribution; default: each node's codename (`VERSION_CODENAME`, e.g. `bookworm`).",
			},
			"components": schema.ListAttribute{
				Optional: true, ElementType: types.StringType,
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
				MarkdownDescription: "Components; default `[\"main\"]`.",
			},
		},
	}
}

// packageRepository is the guest library's repository for the plan: nil
// when none is set; the URL defaults to Percona's for the version.
func (m *clusterModel) packageRepository(ctx context.Context, diags *diag.Diagnostics) *guest.PackageRepository {
	r := m.PackageRepository
	if r == nil {
		return nil
	}
	p := path.Root("package_repository")
	out := &guest.PackageRepository{URL: r.URL.ValueString(), Key: r.Key.ValueString(), Suite: r.Suite.ValueString()}
	if !r.Components.IsNull() && !r.Components.IsUnknown() {
		diags.Append(r.Components.ElementsAs(ctx, &out.Components, false)...)
	}
	if r.URL.IsUnknown() || r.Key.IsUnknown() || r.Suite.IsUnknown() || r.Components.IsUnknown() ||
		(out.URL == "" && m.Datastore != nil && (m.Datastore.Type.IsUnknown() || m.Datastore.Version.IsUnknown())) {
		return out // checked at plan, when known
	}
	if out.URL == "" {
		if m.Datastore == nil || m.Datastore.Type.ValueString() != "percona" {
			diags.Append(packageRepositoryURLRequiredDiagnostic(p.AtName("url")))
			return nil
		}
		out.URL = guest.PerconaRepositoryURL(m.Datastore.Version.ValueString())
	}
	if err := guest.ValidatePackageRepository(*out); err != nil {
		diags.Append(invalidPackageRepositoryDiagnostic(p, err))
		return nil
	}
	return out
}
