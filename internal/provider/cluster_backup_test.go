package provider

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func backupErrorsAt(diags diag.Diagnostics, at path.Path) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, d := range diags.Errors() {
		if wp, ok := d.(diag.DiagnosticWithPath); ok && wp.Path().Equal(at) {
			out = append(out, d)
		}
	}
	return out
}

// restore_from needs exactly one of backup_id and latest; a schedule must
// be a duration of at least 10s. Both are refused naming the attribute.
func TestBackupConfigIsCheckedAtValidate(t *testing.T) {
	base := func() clusterModel {
		return clusterModel{NodeCount: wholeNumberValue(3), AllowedCIDRs: types.ListNull(types.StringType)}
	}
	restore := func(id string, latest bool) *restoreModel {
		r := &restoreModel{Container: types.StringValue("bk"), Key: types.StringValue("k"), BackupID: types.StringNull(), Latest: types.BoolValue(latest)}
		if id != "" {
			r.BackupID = types.StringValue(id)
		}
		return r
	}
	for name, c := range map[string]struct {
		r    *restoreModel
		want bool
	}{
		"both": {restore("abcdef01", true), true}, "neither": {restore("", false), true},
		"id": {restore("abcdef01", false), false}, "latest": {restore("", true), false},
	} {
		m := base()
		m.RestoreFrom = c.r
		var diags diag.Diagnostics
		validateClusterConfig(context.Background(), &m, &diags)
		if got := len(backupErrorsAt(diags, path.Root("restore_from"))) > 0; got != c.want {
			t.Errorf("%s: refused %v, want %v (%v)", name, got, c.want, diags)
		}
	}
	for schedule, bad := range map[string]bool{"5s": true, "daily": true, "24h": false, "10s": false} {
		m := base()
		m.Backup = &backupStoreModel{Container: types.StringValue("bk"), Schedule: types.StringValue(schedule)}
		var diags diag.Diagnostics
		validateClusterConfig(context.Background(), &m, &diags)
		if got := len(backupErrorsAt(diags, path.Root("backup").AtName("schedule"))) > 0; got != bad {
			t.Errorf("schedule %q: refused %v, want %v (%v)", schedule, got, bad, diags)
		}
	}
}

// A failed restore says, at restore_from, that nothing is left.
func TestRestoreFailedDiagnostic(t *testing.T) {
	d := restoreFailedDiagnostic("copy", errors.New("the backup key is wrong"), true)
	wp, ok := d.(diag.DiagnosticWithPath)
	if !ok || !wp.Path().Equal(path.Root("restore_from")) {
		t.Fatalf("diagnostic not at restore_from: %v", d)
	}
	if !strings.Contains(d.Detail(), "the backup key is wrong") || !strings.Contains(d.Detail(), "was removed from the cloud") {
		t.Errorf("detail = %s", d.Detail())
	}
}
