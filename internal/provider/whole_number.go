package provider

import (
	"context"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// wholeNumberType is an Int64 whose configuration may hold a fraction
// (node_count = 1.5) without the framework's "Value Conversion Error ...
// always an error in the provider": the fraction becomes an unknown value
// that reports itself, naming the attribute, during validation.
type wholeNumberType struct {
	basetypes.Int64Type
}

var (
	_ basetypes.Int64Typable                    = wholeNumberType{}
	_ basetypes.Int64ValuableWithSemanticEquals = wholeNumber{}
	_ xattr.ValidateableAttribute               = wholeNumber{}
)

func (t wholeNumberType) Equal(o attr.Type) bool {
	_, ok := o.(wholeNumberType)
	return ok
}

func (t wholeNumberType) String() string { return "wholeNumberType" }

func (t wholeNumberType) ValueType(context.Context) attr.Value { return wholeNumber{} }

func (t wholeNumberType) ValueFromInt64(_ context.Context, v basetypes.Int64Value) (basetypes.Int64Valuable, diag.Diagnostics) {
	return wholeNumber{Int64Value: v}, nil
}

func (t wholeNumberType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	if in.IsKnown() && !in.IsNull() {
		var f *big.Float
		if err := in.As(&f); err != nil {
			return nil, err
		}
		if _, acc := f.Int64(); !f.IsInt() || acc != big.Exact {
			return wholeNumber{Int64Value: basetypes.NewInt64Unknown(), notWhole: f.Text('g', -1)}, nil
		}
	}
	v, err := t.Int64Type.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	return wholeNumber{Int64Value: v.(basetypes.Int64Value)}, nil
}

// wholeNumber is a value of wholeNumberType.
type wholeNumber struct {
	basetypes.Int64Value
	// notWhole is the configured number when it is not a whole int64.
	notWhole string
}

func wholeNumberValue(n int64) wholeNumber {
	return wholeNumber{Int64Value: basetypes.NewInt64Value(n)}
}

func (v wholeNumber) Type(context.Context) attr.Type { return wholeNumberType{} }

func (v wholeNumber) Equal(o attr.Value) bool {
	other, ok := o.(wholeNumber)
	return ok && v.notWhole == other.notWhole && v.Int64Value.Equal(other.Int64Value)
}

func (v wholeNumber) Int64SemanticEquals(_ context.Context, o basetypes.Int64Valuable) (bool, diag.Diagnostics) {
	other, ok := o.(wholeNumber)
	return ok && v.Equal(other), nil
}

func (v wholeNumber) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.notWhole != "" {
		resp.Diagnostics.Append(notWholeNumberDiagnostic(req.Path, v.notWhole))
	}
}
