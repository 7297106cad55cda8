package octavia

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Views follow the api-ref samples in /work/shared/openstack-api/octavia;
// the caller holds s.mu and has refreshed the load balancers' statistics.

func (s *Service) lbView(lb *loadBalancer) map[string]any {
	var qos any
	if lb.VIPQoSPolicyID != nil {
		qos = *lb.VIPQoSPolicyID
	}
	return map[string]any{
		"id":                  lb.ID,
		"project_id":          lb.ProjectID,
		"tenant_id":           lb.ProjectID,
		"name":                lb.Name,
		"description":         lb.Description,
		"admin_state_up":      lb.AdminStateUp,
		"provisioning_status": lb.ProvisioningStatus,
		"operating_status":    s.lbOp(lb),
		"vip_address":         lb.VIPAddress,
		"vip_port_id":         lb.VIPPortID,
		"vip_subnet_id":       lb.VIPSubnetID,
		"vip_network_id":      lb.VIPNetworkID,
		"vip_qos_policy_id":   qos,
		"vip_vnic_type":       "normal",
		"additional_vips":     []any{},
		"provider":            lb.Provider,
		"flavor_id":           nil,
		"availability_zone":   nil,
		"listeners":           refs(lb.Listeners),
		"pools":               refs(lb.Pools),
		"tags":                tags(lb.Tags),
		"created_at":          stamp(lb.CreatedAt),
		"updated_at":          stamp(lb.UpdatedAt),
	}
}

func (s *Service) listenerView(l *listener) map[string]any {
	lb := s.lbs[l.LBID]
	headers := l.InsertHeaders
	if headers == nil {
		headers = map[string]string{}
	}
	var cidrs any
	if l.AllowedCIDRs != nil {
		cidrs = l.AllowedCIDRs
	}
	return map[string]any{
		"id":                          l.ID,
		"project_id":                  l.ProjectID,
		"tenant_id":                   l.ProjectID,
		"name":                        l.Name,
		"description":                 l.Description,
		"admin_state_up":              l.AdminStateUp,
		"provisioning_status":         l.ProvisioningStatus,
		"operating_status":            s.listenerOp(lb, l),
		"protocol":                    l.Protocol,
		"protocol_port":               l.Port,
		"connection_limit":            l.ConnectionLimit,
		"default_pool_id":             nullIfEmpty(l.DefaultPoolID),
		"loadbalancers":               []idRef{{ID: l.LBID}},
		"l7policies":                  []any{},
		"insert_headers":              headers,
		"timeout_client_data":         l.TimeoutClientData,
		"timeout_member_connect":      l.TimeoutMemberConnect,
		"timeout_member_data":         l.TimeoutMemberData,
		"timeout_tcp_inspect":         l.TimeoutTCPInspect,
		"allowed_cidrs":               cidrs,
		"default_tls_container_ref":   nil,
		"sni_container_refs":          []string{},
		"client_ca_tls_container_ref": nil,
		"client_authentication":       "NONE",
		"client_crl_container_ref":    nil,
		"tls_ciphers":                 nil,
		"tls_versions":                nil,
		"alpn_protocols":              nil,
		"hsts_include_subdomains":     false,
		"hsts_max_age":                nil,
		"hsts_preload":                false,
		"tags":                        tags(l.Tags),
		"created_at":                  stamp(l.CreatedAt),
		"updated_at":                  stamp(l.UpdatedAt),
	}
}

func (s *Service) poolView(p *pool) map[string]any {
	lb := s.lbs[p.LBID]
	var persistence any
	if p.Persistence != nil {
		persistence = map[string]any{"type": p.Persistence.Type, "cookie_name": nullIfEmpty(p.Persistence.CookieName)}
	}
	var ls []string
	for _, l := range s.listenersOfPool(p) {
		ls = append(ls, l.ID)
	}
	return map[string]any{
		"id":                   p.ID,
		"project_id":           p.ProjectID,
		"tenant_id":            p.ProjectID,
		"name":                 p.Name,
		"description":          p.Description,
		"admin_state_up":       p.AdminStateUp,
		"provisioning_status":  p.ProvisioningStatus,
		"operating_status":     s.poolOp(lb, p),
		"protocol":             p.Protocol,
		"lb_algorithm":         p.Algorithm,
		"session_persistence":  persistence,
		"loadbalancers":        []idRef{{ID: p.LBID}},
		"listeners":            refs(ls),
		"members":              refs(p.Members),
		"healthmonitor_id":     nullIfEmpty(p.MonitorID),
		"tls_container_ref":    nil,
		"ca_tls_container_ref": nil,
		"crl_container_ref":    nil,
		"tls_enabled":          false,
		"tls_ciphers":          nil,
		"tls_versions":         nil,
		"alpn_protocols":       nil,
		"tags":                 tags(p.Tags),
		"created_at":           stamp(p.CreatedAt),
		"updated_at":           stamp(p.UpdatedAt),
	}
}

func (s *Service) memberView(m *member) map[string]any {
	p := s.pools[m.PoolID]
	lb := s.lbs[p.LBID]
	var subnet, maddr, mport any
	if m.SubnetID != nil {
		subnet = *m.SubnetID
	}
	if m.MonitorAddress != nil {
		maddr = *m.MonitorAddress
	}
	if m.MonitorPort != nil {
		mport = *m.MonitorPort
	}
	return map[string]any{
		"id":                  m.ID,
		"project_id":          m.ProjectID,
		"tenant_id":           m.ProjectID,
		"name":                m.Name,
		"admin_state_up":      m.AdminStateUp,
		"provisioning_status": m.ProvisioningStatus,
		"operating_status":    s.memberOp(lb, p, m),
		"address":             m.Address,
		"protocol_port":       m.Port,
		"weight":              m.Weight,
		"backup":              m.Backup,
		"subnet_id":           subnet,
		"monitor_address":     maddr,
		"monitor_port":        mport,
		"vnic_type":           "normal",
		"tags":                tags(m.Tags),
		"created_at":          stamp(m.CreatedAt),
		"updated_at":          stamp(m.UpdatedAt),
	}
}

func (s *Service) monitorView(hm *monitor) map[string]any {
	var version, method, path, codes, domain any
	if hm.HTTPVersion != nil {
		version = *hm.HTTPVersion
	}
	if hm.HTTPMethod != nil {
		method = *hm.HTTPMethod
	}
	if hm.URLPath != nil {
		path = *hm.URLPath
	}
	if hm.ExpectedCodes != nil {
		codes = *hm.ExpectedCodes
	}
	if hm.DomainName != nil {
		domain = *hm.DomainName
	}
	return map[string]any{
		"id":                  hm.ID,
		"project_id":          hm.ProjectID,
		"tenant_id":           hm.ProjectID,
		"name":                hm.Name,
		"admin_state_up":      hm.AdminStateUp,
		"provisioning_status": hm.ProvisioningStatus,
		"operating_status":    monitorOp(hm),
		"pools":               []idRef{{ID: hm.PoolID}},
		"type":                hm.Type,
		"delay":               hm.Delay,
		"timeout":             hm.Timeout,
		"max_retries":         hm.MaxRetries,
		"max_retries_down":    hm.MaxRetriesDown,
		"http_method":         method,
		"url_path":            path,
		"expected_codes":      codes,
		"http_version":        version,
		"domain_name":         domain,
		"tags":                tags(hm.Tags),
		"created_at":          stamp(hm.CreatedAt),
		"updated_at":          stamp(hm.UpdatedAt),
	}
}

// listParams are the query parameters that are not attribute filters.
var listParams = map[string]bool{
	"limit": true, "marker": true, "sort_key": true, "sort_dir": true, "page_reverse": true,
	"fields": true, "tags": true, "tags-any": true, "not-tags": true, "not-tags-any": true,
}

// writeList filters views by query parameters (attribute equality and the
// tags filters), pages them (limit, marker) and writes {"<key>": [...]}.
// hidden keys are filterable but not part of the view.
func writeList(q *request, key string, views []map[string]any, hidden ...string) *apiError {
	query := q.r.URL.Query()
	var out []map[string]any
	for _, v := range views {
		if matches(v, query) {
			for _, h := range hidden {
				delete(v, h)
			}
			out = append(out, v)
		}
	}
	body := map[string]any{}
	if marker := query.Get("marker"); marker != "" {
		i := slices.IndexFunc(out, func(v map[string]any) bool { return v["id"] == marker })
		if i < 0 {
			return errorf(http.StatusNotFound, "Marker %s could not be found.", marker)
		}
		out = out[i+1:]
	}
	links := []map[string]string{}
	if l := query.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return invalidInput("limit", l, "Invalid integer value")
		}
		if n > 0 && len(out) > n {
			out = out[:n]
			next := *q.r.URL
			nq := next.Query()
			nq.Set("marker", fmt.Sprint(out[n-1]["id"]))
			next.RawQuery = nq.Encode()
			links = append(links, map[string]string{"rel": "next", "href": q.base + next.RequestURI()})
		}
	}
	if fields := query["fields"]; len(fields) > 0 {
		var keep []string
		for _, f := range fields {
			keep = append(keep, strings.Split(f, ",")...)
		}
		for i, v := range out {
			trimmed := map[string]any{}
			for _, k := range keep {
				if val, ok := v[k]; ok {
					trimmed[k] = val
				}
			}
			out[i] = trimmed
		}
	}
	if out == nil {
		out = []map[string]any{}
	}
	body[key] = out
	body[key+"_links"] = links
	writeJSON(q.w, http.StatusOK, body)
	return nil
}

func matches(v map[string]any, query url.Values) bool {
	for k, want := range query {
		if listParams[k] {
			continue
		}
		got, ok := v[k]
		if !ok {
			continue // unknown filters are ignored
		}
		if got == nil || !slices.Contains(want, scalar(got)) {
			if !boolMatch(got, want) {
				return false
			}
		}
	}
	has := func(t string) bool { return slices.Contains(tagsOf(v), t) }
	for _, t := range splitAll(query["tags"]) {
		if !has(t) {
			return false
		}
	}
	if any := splitAll(query["tags-any"]); len(any) > 0 && !slices.ContainsFunc(any, has) {
		return false
	}
	if not := splitAll(query["not-tags"]); len(not) > 0 && !slices.ContainsFunc(not, func(t string) bool { return !has(t) }) {
		return false
	}
	for _, t := range splitAll(query["not-tags-any"]) {
		if has(t) {
			return false
		}
	}
	return true
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// boolMatch accepts True/False spellings for boolean attributes.
func boolMatch(got any, want []string) bool {
	b, ok := got.(bool)
	if !ok {
		return false
	}
	for _, w := range want {
		if pb, err := strconv.ParseBool(strings.ToLower(w)); err == nil && pb == b {
			return true
		}
	}
	return false
}

func tagsOf(v map[string]any) []string {
	t, _ := v["tags"].([]string)
	return t
}

func splitAll(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, t := range strings.Split(v, ",") {
			if t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}
