package provider

import (
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
)

// changeKind says what a change of one configured attribute does to a
// running resource.
type changeKind int

const (
	// changeInPlace: Update applies it without touching the servers' service.
	changeInPlace changeKind = iota
	// changeRolling: Update applies it one node at a time, keeping quorum.
	changeRolling
	// changeReplace: the plan replaces the resource.
	changeReplace
	// changeRefused: the plan fails with the row's reason.
	changeRefused
)

// String names the kind as the resource pages and plan messages say it.
func (k changeKind) String() string {
	switch k {
	case changeInPlace:
		return "in place"
	case changeRolling:
		return "rolling"
	case changeReplace:
		return "replace"
	case changeRefused:
		return "refused"
	}
	return "unknown"
}

// attributeChange is one row of a changes table.
type attributeChange struct {
	kind changeKind
	// reason completes "Changing <attr> ..." in the refusal (changeRefused).
	reason string
	// ifConfigured: a replacement only when the configuration sets the
	// attribute, so a computed default may settle freely.
	ifConfigured bool
	// byModifyPlan: the values' equality needs the cloud (a network id and
	// its name are the same network), so ModifyPlan decides the replacement
	// and the schema carries no RequiresReplace.
	byModifyPlan bool
	// shrinkReason refuses a smaller number (an in-place row that can only
	// grow, like a volume): it completes "Changing <attr> ...".
	shrinkReason string
	// nested holds the rows of a nested object's attributes; the object's
	// own kind is then unused.
	nested changes
}

// changes maps a top-level attribute to what changing it does. The schema
// takes its RequiresReplace modifiers from it and ModifyPlan its refusals,
// so a later feature flips a row rather than code in several places.
type changes map[string]attributeChange

// row finds the row of an attribute path: "volume.size" is the row "size"
// nested in the row "volume".
func (t changes) row(name string) (attributeChange, bool) {
	parent, child, isNested := strings.Cut(name, ".")
	row, ok := t[parent]
	if !isNested || !ok {
		return row, ok
	}
	return row.nested.row(child)
}

// rows lists every row by its dotted attribute path, sorted, so plan
// diagnostics come in a stable order.
func (t changes) rows() []string {
	var names []string
	for name, row := range t {
		if row.nested == nil {
			names = append(names, name)
			continue
		}
		for _, child := range row.nested.rows() {
			names = append(names, name+"."+child)
		}
	}
	sort.Strings(names)
	return names
}

// attributePath is the framework path of a dotted row name.
func attributePath(name string) path.Path {
	parts := strings.Split(name, ".")
	p := path.Root(parts[0])
	for _, part := range parts[1:] {
		p = p.AtName(part)
	}
	return p
}

func (t changes) replaces(name string) bool {
	row, ok := t.row(name)
	return ok && row.kind == changeReplace && !row.byModifyPlan
}

// stringModifiers returns the plan modifiers the row asks of a string
// attribute, followed by extra.
func (t changes) stringModifiers(name string, extra ...planmodifier.String) []planmodifier.String {
	var out []planmodifier.String
	if t.replaces(name) {
		if row, _ := t.row(name); row.ifConfigured {
			out = append(out, stringplanmodifier.RequiresReplaceIfConfigured())
		} else {
			out = append(out, stringplanmodifier.RequiresReplace())
		}
	}
	return append(out, extra...)
}

func (t changes) int64Modifiers(name string, extra ...planmodifier.Int64) []planmodifier.Int64 {
	var out []planmodifier.Int64
	if t.replaces(name) {
		out = append(out, int64planmodifier.RequiresReplace())
	}
	return append(out, extra...)
}

func (t changes) objectModifiers(name string) []planmodifier.Object {
	if t.replaces(name) {
		return []planmodifier.Object{objectplanmodifier.RequiresReplace()}
	}
	return nil
}

func (t changes) listModifiers(name string) []planmodifier.List {
	if t.replaces(name) {
		return []planmodifier.List{listplanmodifier.RequiresReplace()}
	}
	return nil
}

// refusedChange reports whether a refused row's attribute changes from
// state to plan. An unknown plan value is decided at apply; a null state
// value (after an import the configuration brings it) is adopted.
func refusedChange(row attributeChange, plan, state attr.Value) bool {
	return row.kind == changeRefused && !plan.IsUnknown() && !state.IsNull() && !plan.Equal(state)
}

// shrinks reports whether a row that can only grow gets a smaller number.
func shrinks(row attributeChange, plan, state attr.Value) bool {
	p, okPlan := plan.(interface{ ValueInt64() int64 })
	s, okState := state.(interface{ ValueInt64() int64 })
	if row.shrinkReason == "" || !okPlan || !okState || plan.IsUnknown() || plan.IsNull() || state.IsNull() || state.IsUnknown() {
		return false
	}
	return p.ValueInt64() < s.ValueInt64()
}
