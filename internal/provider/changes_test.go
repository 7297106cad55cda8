package provider

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// replacingModifiers lists the descriptions of an attribute's plan
// modifiers that force a replacement. Every attribute type keeps its own
// slice type in a PlanModifiers field, so reflection reads them all.
func replacingModifiers(ctx context.Context, a schema.Attribute) []string {
	field := reflect.ValueOf(a).FieldByName("PlanModifiers")
	if !field.IsValid() {
		return nil
	}
	var descs []string
	for i := 0; i < field.Len(); i++ {
		m, ok := field.Index(i).Interface().(interface{ Description(context.Context) string })
		if ok && strings.Contains(m.Description(ctx), "destroy and recreate") {
			descs = append(descs, m.Description(ctx))
		}
	}
	return descs
}

// Every configurable attribute has a row in its changes table, and the
// schema forces a replacement exactly for the rows that say replace (and
// that ModifyPlan does not decide itself).
func TestChangesTablesMatchSchemas(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		schema schema.Schema
		table  changes
	}{
		"pxc_cluster": {clusterResourceSchema(ctx), clusterChanges},
		"pxc_lb_pool": {lbPoolResourceSchema(ctx), lbPoolChanges},
	} {
		checkChangesRows(ctx, t, name, tc.schema.Attributes, tc.table)
	}
}

// checkChangesRows checks one level of attributes against one level of
// rows; a nested row is checked against its object's attributes.
func checkChangesRows(ctx context.Context, t *testing.T, name string, attrs map[string]schema.Attribute, table changes) {
	t.Helper()
	{
		for attrName, a := range attrs {
			row, ok := table[attrName]
			if ok && row.nested != nil {
				obj, isObject := a.(schema.SingleNestedAttribute)
				if !isObject {
					t.Errorf("%s.%s has nested rows but is no nested object", name, attrName)
					continue
				}
				if got := replacingModifiers(ctx, a); len(got) > 0 {
					t.Errorf("%s.%s: nested rows decide, but the object itself forces a replacement: %q", name, attrName, got)
				}
				checkChangesRows(ctx, t, name+"."+attrName, obj.Attributes, row.nested)
				continue
			}
			configurable := a.IsRequired() || a.IsOptional()
			if configurable && !ok {
				t.Errorf("%s.%s is configurable but has no row in the changes table", name, attrName)
			}
			if !configurable && ok {
				t.Errorf("%s.%s is computed only but has a row in the changes table", name, attrName)
			}
			wantReplace := ok && row.kind == changeReplace && !row.byModifyPlan
			if got := replacingModifiers(ctx, a); wantReplace != (len(got) > 0) {
				t.Errorf("%s.%s: table row %+v, replacing plan modifiers %q", name, attrName, row, got)
			}
			if ok && row.kind == changeRefused && row.reason == "" {
				t.Errorf("%s.%s is refused without a reason", name, attrName)
			}
		}
		for attrName := range table {
			if _, ok := attrs[attrName]; !ok {
				t.Errorf("%s: the changes table names %q, which the schema lacks", name, attrName)
			}
		}
	}
}

// The refusal wording names the attribute and the reason from the table.
func TestChangeRefusedDiagnosticNamesReason(t *testing.T) {
	row, _ := clusterChanges.row("datastore.version")
	d := changeRefusedDiagnostic("datastore.version", row.reason)
	if d.Summary() != "Change Not Supported In Place" {
		t.Errorf("summary %q", d.Summary())
	}
	if wp, ok := d.(diag.DiagnosticWithPath); !ok || wp.Path().String() != "datastore.version" {
		t.Errorf("diagnostic not at datastore.version: %v", d)
	}
	for _, want := range []string{"Changing datastore.version upgrades every node's server to another major version, which is not supported yet", "terraform apply -replace"} {
		if !strings.Contains(d.Detail(), want) {
			t.Errorf("detail lacks %q: %s", want, d.Detail())
		}
	}
}

// The resource page's table lists every row of the cluster's changes table
// with its kind, so the two cannot drift apart.
func TestClusterChangesDocumented(t *testing.T) {
	page, err := os.ReadFile("../../templates/resources/cluster.md.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range clusterChanges.rows() {
		row, _ := clusterChanges.row(name)
		kind := row.kind.String()
		if want := fmt.Sprintf("| `%s` | %s |", name, kind); !strings.Contains(string(page), want) {
			t.Errorf("the resource page lacks the row %q", want)
		}
	}
}

// The day-2 guide's pxc_lb_pool table says, for every row of the pool's
// changes table, what its kind says: a row naming the attribute, with
// **Replace** or **In place**.
func TestLBPoolChangesDocumentedInTheGuide(t *testing.T) {
	guide, err := os.ReadFile("../../templates/guides/day-2-operations.md.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(guide), "## pxc_lb_pool")
	table, _, _ = strings.Cut(table, "\n\n## ")
	word := map[changeKind]string{changeReplace: "**Replace**", changeInPlace: "**In place"}
	for _, name := range lbPoolChanges.rows() {
		row, _ := lbPoolChanges.row(name)
		found := false
		for _, line := range strings.Split(table, "\n") {
			if strings.HasPrefix(line, "| ") && strings.Contains(line, "`"+name+"`") {
				found = true
				if !strings.Contains(line, word[row.kind]) {
					t.Errorf("the guide's row for %s does not say %s: %s", name, word[row.kind], line)
				}
			}
		}
		if !found {
			t.Errorf("the guide's pxc_lb_pool table has no row for %s", name)
		}
	}
}
