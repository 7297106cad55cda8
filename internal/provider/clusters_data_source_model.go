package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// clustersDataModel is the pxc_clusters data source's state.
type clustersDataModel struct {
	Clusters types.List `tfsdk:"clusters"`
}

type clusterSummaryModel struct {
	ID        types.String    `tfsdk:"id"`
	Name      types.String    `tfsdk:"name"`
	Datastore *datastoreModel `tfsdk:"datastore"`
	IPs       types.List      `tfsdk:"ips"`
	Status    types.String    `tfsdk:"status"`
}

var clusterSummaryAttrTypes = map[string]attr.Type{
	"id":        types.StringType,
	"name":      types.StringType,
	"datastore": types.ObjectType{AttrTypes: map[string]attr.Type{"type": types.StringType, "version": types.StringType}},
	"ips":       types.ListType{ElemType: types.StringType},
	"status":    types.StringType,
}
