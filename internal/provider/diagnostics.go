package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// The wording of every diagnostic the provider reports lives here, so it can
// be read and kept consistent in one place. Summaries are in Title Case;
// details say what was being attempted, what to do, and then the original
// error.

// invalidConfigDiagnostic reports settings rejected before any network call.
func invalidConfigDiagnostic(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Invalid OpenStack Provider Configuration",
		"While configuring the provider, the OpenStack settings were rejected. Fix the provider block or the OS_* environment variables.\n\n"+
			"Original Error: "+err.Error())
}

// Provider configuration.

func unknownValueDiagnostic(attr string, env []string) diag.Diagnostic {
	hint := ""
	if len(env) > 0 {
		hint = fmt.Sprintf(", or leave it out and set %s", strings.Join(env, " or "))
	}
	return diag.NewAttributeErrorDiagnostic(path.Root(attr), "Unknown OpenStack Provider Setting",
		fmt.Sprintf("While configuring the provider, the value of %q was not known yet (it depends on a resource that is not created). "+
			"The provider needs its OpenStack settings before any resource is planned: set %q to a literal or a variable%s.", attr, attr, hint))
}

func invalidInsecureEnvDiagnostic(value string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("insecure"), "Invalid OS_INSECURE Value",
		fmt.Sprintf("While reading the provider configuration, OS_INSECURE was %q, which is not a boolean. Set it to true or false, or unset it.", value))
}

func invalidMaxRetriesEnvDiagnostic(value string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("max_retries"), "Invalid OS_MAX_RETRIES Value",
		fmt.Sprintf("While reading the provider configuration, OS_MAX_RETRIES was %q; it must be a whole number, 0 or more.", value))
}

// conflictingCredentialsDiagnostic: a password and a token came from the
// places passwordFrom and tokenFrom describe; at is the attribute to blame.
func conflictingCredentialsDiagnostic(at, passwordFrom, tokenFrom string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root(at), "Conflicting OpenStack Credentials",
		fmt.Sprintf("While validating the provider configuration, both a password (from %s) and a token (from %s) were found. "+
			"Authenticate with one of them: remove one from the provider block, or unset the environment variable.",
			passwordFrom, tokenFrom))
}

func incompleteClientCertificateDiagnostic(at, haveFrom, missing string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root(at), "Incomplete Client Certificate",
		fmt.Sprintf("While validating the provider configuration, a client certificate setting came from %s but %s is not set. "+
			"A TLS client certificate needs both the certificate and its private key.", haveFrom, missing))
}

// unreadableCloudDiagnostic: the clouds.yaml entry named by cloud (from
// the place from describes) could not be read.
func unreadableCloudDiagnostic(from, cloud string, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("cloud"), "Unknown OpenStack Cloud",
		fmt.Sprintf("While configuring the provider, the cloud %q (from %s) could not be read from clouds.yaml "+
			"(OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml or /etc/openstack/clouds.yaml). "+
			"Check the name against the file's clouds: section, or point OS_CLIENT_CONFIG_FILE at the right file.\n\nOriginal Error: %v", cloud, from, err))
}

func unreadableCertificateDiagnostic(attr, from string, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root(attr), "Unreadable Certificate",
		fmt.Sprintf("While configuring the provider, the certificate setting %s could not be read: give an existing file path or the PEM text itself.\n\nOriginal Error: %v", from, err))
}

// conflictingApplicationCredentialDiagnostic: an application credential
// authenticates by itself; a password next to it makes the login ambiguous.
func conflictingApplicationCredentialDiagnostic(credFrom, passwordFrom string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("password"), "Conflicting OpenStack Credentials",
		fmt.Sprintf("While validating the provider configuration, both an application credential (from %s) and a password (from %s) were found. "+
			"An application credential logs in by itself: remove \"password\" (or unset OS_PASSWORD), or remove the application_credential_* settings.",
			credFrom, passwordFrom))
}

func invalidURLDiagnostic(at path.Path, raw string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid URL",
		fmt.Sprintf("While validating %s, %q is not an absolute http:// or https:// URL. Give the identity endpoint, e.g. https://keystone.example.com:5000/v3.", at, raw))
}

// unexpectedProviderDataDiagnostic: Configure handed over something other
// than *ProviderData, which only a bug can do.
func unexpectedProviderDataDiagnostic(v any) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unexpected Provider Data",
		fmt.Sprintf("Expected *provider.ProviderData, got %T. This is always a bug in the provider code and should be reported to the provider developers.", v))
}

// openStackErrorDiagnostic turns an error from internal/openstack into one
// diagnostic that names the cause: authentication, reachability, TLS, a
// service missing from the catalog, or the API call itself. action completes
// "While attempting to ...", e.g. "create server db-1".
func openStackErrorDiagnostic(action string, err error) diag.Diagnostic {
	var ae *openstack.AuthError
	var sm *openstack.ServiceMissingError
	switch {
	case errors.As(err, &ae):
		summary, todo := authAdvice(ae)
		return diag.NewErrorDiagnostic(summary, fmt.Sprintf("While attempting to %s, the provider could not authenticate to OpenStack at %s. %s\n\nOriginal Error: %s",
			action, authWhere(ae), todo, err))
	case errors.As(err, &sm):
		return diag.NewErrorDiagnostic("OpenStack Service Not Available",
			fmt.Sprintf("While attempting to %s, the provider needed the %s service, but the service catalog of this cloud and project lists no %s endpoint for it. "+
				"Ask the cloud operator whether %s is offered in this region, pick another region, or point endpoint_overrides at it.\n\nOriginal Error: %s",
				action, sm.Service, sm.Interface, sm.Service, err))
	}
	return diag.NewErrorDiagnostic("OpenStack API Error",
		fmt.Sprintf("While attempting to %s, an OpenStack API call failed. Check the error below; set TF_LOG=DEBUG to see each request and answer (secrets are masked).\n\nOriginal Error: %s",
			action, err))
}

func authWhere(ae *openstack.AuthError) string {
	if ae.URL == "" {
		return "(no auth_url configured)"
	}
	return ae.URL
}

func authAdvice(ae *openstack.AuthError) (summary, todo string) {
	switch ae.Failure {
	case openstack.AuthRejected:
		return "OpenStack Authentication Failed",
			"The identity service answered 401 Unauthorized: authentication failed. Check user_name/user_id and password " +
				"(OS_USERNAME, OS_PASSWORD), the project and domain settings, or the application credential; a token may have expired."
	case openstack.AuthForbidden:
		return "OpenStack Access Forbidden",
			"The identity service answered 403 Forbidden: the user may not obtain a token for this scope. Check the project or domain to scope to."
	case openstack.AuthUnreachable:
		return "OpenStack Identity Endpoint Unreachable",
			"The identity endpoint is unreachable: no connection could be made. Check auth_url (OS_AUTH_URL), DNS, proxies and firewalls."
	case openstack.AuthTLS:
		return "OpenStack TLS Error",
			"The TLS connection to the identity endpoint failed. If the cloud uses a private CA, set cacert_file (OS_CACERT); " +
				"check that auth_url uses the right scheme; insecure = true skips verification on test clouds only."
	case openstack.AuthNotConfigured:
		return "OpenStack Credentials Not Configured",
			"No identity endpoint is configured. Set cloud (OS_CLOUD) to an entry of clouds.yaml, or auth_url (OS_AUTH_URL) with credentials."
	case openstack.AuthConfigInvalid:
		return "Invalid OpenStack Provider Configuration",
			"The settings could not be turned into a login: check the clouds.yaml entry and the certificate files."
	}
	return "OpenStack Authentication Error",
		"Authentication failed for an unexpected reason; set TF_LOG=DEBUG to see the requests."
}

// providerNotConfiguredDiagnostic reports a resource or data source called
// without an OpenStack client: the provider block failed or was not
// configured (the framework then passes no provider data).
func providerNotConfiguredDiagnostic(action string) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Provider Not Configured",
		fmt.Sprintf("While attempting to %s, the pxc provider had no OpenStack client because the provider was not configured. "+
			"Fix any earlier error about the provider block; if its settings depend on resources that do not exist yet, create those first.", action))
}

// Configuration checks of pxc_cluster (terraform validate).

func evenNodeCountDiagnostic(n int64) diag.Diagnostic {
	return diag.NewAttributeWarningDiagnostic(path.Root("node_count"), "Even Node Count",
		fmt.Sprintf("A cluster of %d nodes can split into two halves of %d; neither half keeps quorum and the whole cluster stops taking writes. Use an odd node_count.",
			n, n/2))
}

// twoDataNodesDiagnostic warns that two data nodes need a third voter.
func twoDataNodesDiagnostic() diag.Diagnostic {
	return diag.NewAttributeWarningDiagnostic(path.Root("node_count"), "Two Data Nodes Need An Arbitrator",
		"A cluster of 2 data nodes loses quorum when either fails: the survivor is half of the group and stops taking writes. "+
			"Add an arbitrator, a pxc_node with role = \"arbitrator\" (a small server running garbd, no data), to make 3 voting members, or use node_count = 3.")
}

func unsupportedDatastoreDiagnostic(d cluster.Datastore, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("datastore").AtName("version"), "Unsupported Datastore",
		fmt.Sprintf("While checking datastore %s %s, the provider found it cannot install it. Choose a supported type and version.\n\nOriginal Error: %v",
			d.Type, d.Version, err))
}

func unsupportedSSTMethodDiagnostic(err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("sst_method"), "Unsupported SST Method",
		"While checking sst_method against the datastore, the method was rejected. Choose a method the datastore supports, or leave sst_method out for the default.\n\n"+
			"Original Error: sst_method: "+err.Error())
}

func missingPrivateKeyDiagnostic() diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("ssh").AtName("private_key"), "Missing Private Key",
		"key_pair names an existing keypair, so the provider needs its private key in ssh.private_key to configure the servers.")
}

func missingKnownHostsFileDiagnostic() diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("ssh").AtName("known_hosts_file"), "Missing known_hosts File",
		"ssh.host_key_check is \"known_hosts\": set ssh.known_hosts_file to the file holding the servers' host keys.")
}

func missingBastionHostKeyDiagnostic() diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("ssh").AtName("bastion").AtName("host_key"), "Missing Bastion Host Key",
		"The bastion's host key cannot be read from a Nova console: set ssh.bastion.host_key (authorized_keys format).")
}

func notWholeNumberDiagnostic(at path.Path, value string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid Number",
		fmt.Sprintf("%s must be a whole number; %s is not.", at, value))
}

func invalidDurationDiagnostic(at path.Path, value string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid Duration",
		fmt.Sprintf("%q is not a duration above zero such as 90s or 5m.", value))
}

func invalidCIDRDiagnostic(at path.Path, value string, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid CIDR",
		fmt.Sprintf("While validating %s, %q is not a CIDR such as 192.0.2.0/24: %v", at, value, err))
}

// ipv6CIDRDiagnostic: the security group rules the cluster makes are IPv4
// only, so an IPv6 prefix would fail at apply.
func ipv6CIDRDiagnostic(at path.Path, value string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "IPv6 CIDR Not Supported",
		fmt.Sprintf("While validating %s, %q is an IPv6 prefix. The cluster's nodes are reached over their IPv4 subnet and "+
			"its security group rules are IPv4 only, so only IPv4 CIDRs such as 192.0.2.0/24 are supported.", at, value))
}

// openToEveryoneDiagnostic warns that a /0 prefix lets every address try
// the database root account.
func openToEveryoneDiagnostic(at path.Path, value string) diag.Diagnostic {
	return diag.NewAttributeWarningDiagnostic(at, "Database Open To Every Address",
		fmt.Sprintf("%s is %q: every address may reach MySQL on port 3306, and the root account accepts logins from it. "+
			"Name the networks of the applications instead, or put a pxc_lb_pool in front and allow only its subnet.", at, value))
}

func invalidPrivateKeyDiagnostic(at path.Path, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid Private Key",
		fmt.Sprintf("While validating %s, the value could not be read as an unencrypted SSH private key (PEM or OpenSSH format). "+
			"Give the private key itself, e.g. file(\"~/.ssh/id_ed25519\"); keys protected by a passphrase are not supported.\n\nOriginal Error: %v", at, err))
}

func invalidHostKeyDiagnostic(at path.Path, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid Host Key",
		fmt.Sprintf("While validating %s, the value could not be read as a public key in authorized_keys format "+
			"(e.g. the line of /etc/ssh/ssh_host_ed25519_key.pub: \"ssh-ed25519 AAAA...\").\n\nOriginal Error: %v", at, err))
}

func unreadableFileDiagnostic(at path.Path, name string, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Unreadable File",
		fmt.Sprintf("While validating %s, the file %q could not be read on this machine, where the provider reads it during apply.\n\nOriginal Error: %v", at, name, err))
}

// invalidParameterDiagnostic refuses one parameters element; at is its path,
// parameters["key"].
func invalidParameterDiagnostic(at path.Path, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid Parameters",
		fmt.Sprintf("While checking %s, the server setting was rejected (the provider manages some settings itself, in every spelling the server accepts). "+
			"Remove or correct it.\n\nOriginal Error: %v", at, err))
}

// invalidRootPasswordDiagnostic never repeats the password.
func invalidRootPasswordDiagnostic(err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("root_password"), "Invalid Root Password",
		"While checking root_password, the guest library refused it; it would fail only after every server is built. Choose another password.\n\n"+
			"Original Error: "+err.Error())
}

// invalidTimeoutDiagnostic refuses a timeout that is not positive.
func packageRepositoryURLRequiredDiagnostic(at path.Path) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Package Repository URL Required",
		"While checking package_repository, no url was given. Only percona has a default repository (Percona's, for the datastore's version): set url to the repository's root.")
}

func invalidPackageRepositoryDiagnostic(at path.Path, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid Package Repository",
		"While checking package_repository, a value was refused: it is written into the nodes' apt sources. Fix the attribute named below.\n\n"+
			"Original Error: "+err.Error())
}

func invalidTimeoutDiagnostic(at path.Path, d time.Duration) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid Timeout",
		fmt.Sprintf("%s is %s: an operation with no time left fails at once. Give a positive duration such as \"60m\", or leave it out for the default.", at, d))
}

func unknownReferenceDiagnostic(re *cluster.ReferenceError) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root(re.Field), "Unknown "+titleCase(re.Field), re.Err.Error())
}

// Plan checks of pxc_cluster: changes the cluster_changes table refuses.

// changeRefusedDiagnostic refuses a change of attr; reason completes
// "Changing attr ...".
func changeRefusedDiagnostic(attr, reason string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(attributePath(attr), "Change Not Supported In Place",
		fmt.Sprintf("Changing %s %s. Revert the change, or replace the cluster on purpose with `terraform apply -replace`.", attr, reason))
}

// nodesMissingDiagnostic refuses a new node_count while members within it
// are missing from the cloud: bringing them back is a repair.
func nodesMissingDiagnostic(have, want int64, missing string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("node_count"), "Changing node_count Is Not Supported",
		fmt.Sprintf("Nodes are missing from the cloud (%s): the cluster has %d of its %d nodes. node_count grows and shrinks a healthy cluster; "+
			"restore the missing nodes first (or replace the cluster with `terraform apply -replace`).", missing, have, want))
}

// tooFewVotersDiagnostic refuses a cluster that could not keep quorum.
func tooFewVotersDiagnostic(voters int64) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("node_count"), "Too Few Voting Members",
		fmt.Sprintf("The cluster would have %d voting members; Galera needs at least %d to keep quorum when one fails. Keep node_count at %d or more.",
			voters, cluster.MinNodes, cluster.MinNodes))
}

// resizeDiagnostic says, at plan time, exactly which nodes apply adds and removes.
func resizeDiagnostic(have, want int64, r cluster.Resize) diag.Diagnostic {
	var parts []string
	if len(r.Add) > 0 {
		parts = append(parts, fmt.Sprintf("adds %s, one at a time: each gets a server and volume, joins by state transfer from a member that is not the writer, "+
			"is Synced and enters the load balancer pools before the next", strings.Join(r.Add, ", ")))
	}
	if len(r.Remove) > 0 {
		parts = append(parts, fmt.Sprintf("removes %s, in this order: each leaves the load balancer pools (the writer moves to another node first if it is among them), "+
			"stops cleanly, and its server and volume are deleted", strings.Join(r.Remove, ", ")))
	}
	return diag.NewAttributeWarningDiagnostic(path.Root("node_count"), "Cluster Membership Changes",
		fmt.Sprintf("node_count %d -> %d: apply %s.", have, want, strings.Join(parts, "; then ")))
}

func resizeClusterFailed(id string, want int, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("node_count"), "Error Changing Cluster Membership",
		fmt.Sprintf("While bringing cluster %s to %d nodes, a step failed. State records the members that exist now; applying again continues from there.\n\nOriginal Error: %v",
			id, want, err))
}

// Lifecycle of pxc_cluster.

// createFailed names the phase and node that failed and says how to clean up.
// The error comes before the cleanup advice here: it names the failing node,
// which the advice refers to.
func createFailed(name string, c *cluster.Cluster, err error) diag.Diagnostics {
	var d diag.Diagnostics
	summary := "Error Creating Cluster"
	var pe *cluster.PhaseError
	where := ""
	cause := err
	if errors.As(err, &pe) {
		summary = "Cluster Create Failed In Phase " + phaseTitle(pe.Phase)
		where = " in phase " + phaseTitle(pe.Phase)
		if pe.Node != "" {
			where += " on node " + pe.Node
		}
		if err == error(pe) {
			cause = pe.Err // where already names the phase and node
		}
	}
	cleanup := "Nothing was created in the cloud."
	if c != nil && c.ID != "" {
		cleanup = fmt.Sprintf("The partly built cluster %s is recorded in state and marked tainted: the next `terraform apply` deletes and recreates it, and `terraform destroy` removes everything it made.", c.ID)
	}
	var ae *openstack.AuthError
	var sm *openstack.ServiceMissingError
	if errors.As(err, &ae) || errors.As(err, &sm) {
		d.Append(openStackErrorDiagnostic(fmt.Sprintf("create cluster %q%s", name, where), err))
		d.AddWarning("Cleanup", cleanup)
		return d
	}
	d.AddError(summary, fmt.Sprintf("While creating cluster %q%s: %v\n\n%s", name, where, cause, cleanup))
	return d
}

// explainDeadline names the timeouts attribute (e.g. "timeouts.create") and
// its value when its deadline ended the operation, instead of Go's bare
// "context deadline exceeded". ctx is the context that carried the deadline.
func explainDeadline(ctx context.Context, attr string, limit time.Duration, err error) error {
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%s (%s) ran out before the operation finished; if the cloud or the data needs longer, raise %s: %w", attr, limit, attr, err)
}

// readClusterFailed reports a failed read; while completes "While ...",
// e.g. "reading cluster X from the cloud".
func readClusterFailed(while string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Error Reading Cluster",
		fmt.Sprintf("While %s, the provider could not read it. Run the command again once the cloud answers; set TF_LOG=DEBUG to see each request.\n\nOriginal Error: %v", while, err))
}

func updateAllowedCIDRsFailed(cidrs any, id string, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("allowed_cidrs"), "Error Updating Allowed CIDRs",
		fmt.Sprintf("While opening MySQL to %v on cluster %s, the security group could not be changed. Applying again retries the change.\n\nOriginal Error: %v", cidrs, id, err))
}

func updateLoadBalancerFailed(id string, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("load_balancer"), "Error Updating the Cluster's Load Balancer",
		fmt.Sprintf("While changing the load balancer of cluster %s, Octavia or the security group failed. The nodes are unchanged; "+
			"applying again adds, removes or replaces the load balancer as the configuration says.\n\nOriginal Error: %v", id, err))
}

func deleteClusterFailed(name, id string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Error Deleting Cluster",
		fmt.Sprintf("While deleting cluster %s (%s), an object could not be deleted. Deleting again is safe: objects already gone are skipped.\n\nOriginal Error: %v", name, id, err))
}

// unexpectedImportIDDiagnostic rejects an import id; want says what to give.
func unexpectedImportIDDiagnostic(resourceType, want, got string) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Unexpected Import Identifier",
		fmt.Sprintf("Import a %s by %s; got %q.", resourceType, want, got))
}

func saveHostKeysFailed(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Error Saving Host Keys",
		"While recording the verified SSH host keys in private state, they could not be encoded. This is a bug in the provider; please report it.\n\nOriginal Error: "+err.Error())
}

func loadHostKeysFailed(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Error Loading Host Keys",
		"The recorded SSH host keys in private state are unreadable: "+err.Error())
}

// Data sources.

func clusterNotFoundDiagnostic(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Cluster Not Found",
		fmt.Sprintf("While looking the cluster up by id or name, no single cluster matched. Check the id or name (data.pxc_clusters lists them).\n\nOriginal Error: %v", err))
}

func listClustersFailed(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Error Listing Clusters", "While listing the project's servers to find clusters: "+err.Error())
}

// pxc_lb_pool.

func singleWriterNeedsGaleraDiagnostic() diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("health_check"), "Single Writer Needs The Galera Check",
		"mode single_writer (the default) elects the writer inside the galera health check. With a TCP check Octavia's `option allbackups` "+
			"would send writes to every remaining node when the writer fails. Use health_check = \"galera\" or mode = \"multi_writer\".")
}

// createPoolFailed reports a failed create; lbID is the load balancer left
// in state, empty when nothing was made.
func createPoolFailed(clusterID, lbID string, err error) diag.Diagnostic {
	cleanup := "Nothing was created in the cloud."
	if lbID != "" {
		cleanup = fmt.Sprintf("Load balancer %s is recorded in state and marked tainted: the next apply replaces it, and destroy removes it.", lbID)
	}
	return diag.NewErrorDiagnostic("Error Creating Load Balancer Pool",
		fmt.Sprintf("While putting a load balancer in front of cluster %s, the create failed. %s\n\nOriginal Error: %v", clusterID, cleanup, err))
}

func readPoolFailed(id string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Error Reading Load Balancer Pool",
		fmt.Sprintf("While reading load balancer %s, the provider could not read it. Run the command again once the cloud answers; set TF_LOG=DEBUG to see each request.\n\nOriginal Error: %v", id, err))
}

func updatePoolFailed(id string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Error Updating Load Balancer Pool",
		fmt.Sprintf("While updating load balancer %s, the change did not complete. Applying again retries it.\n\nOriginal Error: %v", id, err))
}

func deletePoolFailed(id string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Error Deleting Load Balancer Pool",
		fmt.Sprintf("While deleting load balancer %s, the delete did not complete. Deleting again is safe.\n\nOriginal Error: %v", id, err))
}

// Lifecycle of pxc_node.

// createNodeFailed names the phase and node that failed; n is the member
// left in state (nil when nothing was made).
func createNodeFailed(clusterID string, n *cluster.Node, err error) diag.Diagnostic {
	where := ""
	cause := err
	var pe *cluster.PhaseError
	if errors.As(err, &pe) {
		where = " in phase " + phaseTitle(pe.Phase)
		if pe.Node != "" {
			where += " on node " + pe.Node
		}
		if err == error(pe) {
			cause = pe.Err
		}
	}
	cleanup := "Nothing was created in the cloud."
	if n != nil {
		cleanup = fmt.Sprintf("Node %s is recorded in state and marked tainted: the next apply removes it (a graceful leave) and adds it again, and destroy removes it.", n.Name)
	}
	return diag.NewErrorDiagnostic("Error Adding Node",
		fmt.Sprintf("While adding a node to cluster %s%s: %v\n\n%s", clusterID, where, cause, cleanup))
}

func deleteNodeFailed(name, clusterID string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Error Removing Node",
		fmt.Sprintf("While removing node %s from cluster %s, the leave did not complete. Destroying again is safe: steps already done are skipped.\n\nOriginal Error: %v", name, clusterID, err))
}

func importNodeFailed(id string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Error Importing Node",
		fmt.Sprintf("While importing pxc_node %s, its server could not be read as a pxc_node. Import a pxc_node by the id of a server a pxc_node made (it carries pxc_node_extra metadata); the nodes of node_count belong to their pxc_cluster.\n\nOriginal Error: %v", id, err))
}

// phaseTitle is a phase's proper name in Title Case: "SSH", "Host Keys".
func phaseTitle(phase string) string {
	words := strings.Fields(titleCase(phase))
	for i, w := range words {
		if strings.EqualFold(w, "ssh") {
			words[i] = "SSH"
		}
	}
	return strings.Join(words, " ")
}

// titleCase turns an attribute or phase name into Title Case for a summary.
func titleCase(s string) string {
	words := strings.Fields(strings.ReplaceAll(s, "_", " "))
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// Backups and restores.

func invalidBackupDiagnostic(at path.Path, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid Backup Store",
		fmt.Sprintf("The backup store at %s cannot be used: %v.", at, err))
}

func invalidBackupScheduleDiagnostic(at path.Path, v string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid Backup Schedule",
		fmt.Sprintf("%q is not a schedule: give a Go duration of at least 10s, such as \"24h\" or \"6h30m\".", v))
}

func restoreChoiceDiagnostic(at path.Path) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid Restore Source",
		"Say which backup to restore: set exactly one of backup_id and latest = true.")
}

func restoreFailedDiagnostic(name string, err error, removed bool) diag.Diagnostic {
	cleanup := "Everything the create had made was removed from the cloud; the backups were not touched."
	if !removed {
		cleanup = "Removing what the create had made failed too: the partly built cluster is recorded in state and marked tainted, and `terraform destroy` removes it."
	}
	return diag.NewAttributeErrorDiagnostic(path.Root("restore_from"), "Restore From Backup Failed",
		fmt.Sprintf("Cluster %q could not be created from its backup: %v\n\nA corrupt or truncated backup or the wrong key fails here, before the cluster starts. %s", name, err, cleanup))
}

func updateBackupFailed(id string, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("backup"), "Backup Schedule Not Applied",
		fmt.Sprintf("The backup job of cluster %s could not be installed on its nodes: %v", id, err))
}

func backupFailed(action string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Backup Failed", fmt.Sprintf("While trying to %s: %v", action, err))
}

// Self-repair of pxc_cluster (cluster_health.go).

// repairPlannedDiagnostic is the plan's warning: what apply will do per node.
func repairPlannedDiagnostic(name, health string, lines []string) diag.Diagnostic {
	what := "Some nodes of cluster " + name + " are unhealthy; quorum holds."
	switch health {
	case "recovery_needed":
		what = "No node of cluster " + name + " is in a primary component (a full outage). The survey of every node chose the node to bootstrap from."
	case "recovery_ambiguous":
		what = "No node of cluster " + name + " is in a primary component (a full outage), and the survey cannot choose the node to bootstrap from."
	}
	return diag.NewAttributeWarningDiagnostic(path.Root("health"), "Cluster Repair Planned",
		what+" terraform apply will:\n  "+strings.Join(lines, "\n  "))
}

// recoveryRefusedDiagnostic names the override attribute that would let a
// full-outage recovery run.
func recoveryRefusedDiagnostic(err error) diag.Diagnostic {
	at := path.Root("recovery")
	var re *cluster.RecoveryRefusedError
	if errors.As(err, &re) {
		at = at.AtName(re.Attribute)
	}
	return diag.NewAttributeErrorDiagnostic(at, "Full-Outage Recovery Refused",
		fmt.Sprintf("The cluster has no primary component and the provider will not bootstrap it: %v. "+
			"Set recovery = { bootstrap_node = \"<cluster>-<n>\", data_loss_acknowledged_on = \"%s\" } once you know which node holds the data to keep.",
			err, time.Now().UTC().Format(time.DateOnly)))
}

// repairFailed says which node a repair stopped at; applying again resumes.
func repairFailed(name string, err error) diag.Diagnostic {
	var re *cluster.RecoveryRefusedError
	if errors.As(err, &re) {
		return recoveryRefusedDiagnostic(err)
	}
	return diag.NewAttributeErrorDiagnostic(path.Root("health"), "Error Repairing Cluster",
		fmt.Sprintf("While repairing cluster %s, a step failed. Nodes already repaired stay so; applying again plans what is left.\n\nOriginal Error: %v", name, err))
}

// changeShrinkRefusedDiagnostic refuses a smaller value of an attribute
// that can only grow.
func changeShrinkRefusedDiagnostic(attr, reason string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(attributePath(attr), "Shrinking Not Supported",
		fmt.Sprintf("Changing %s %s.", attr, reason))
}

// rollingRestartDiagnostic is the plan's note that static parameters
// changed: every node restarts once, one at a time, the writer last.
func rollingRestartDiagnostic(nodes int, static []string) diag.Diagnostic {
	return diag.NewAttributeWarningDiagnostic(path.Root("parameters"), "Rolling Restart Planned",
		fmt.Sprintf("rolling restart of %d nodes: %s not dynamic (the servers report %s read-only). "+
			"Each node restarts once, one at a time, readers first and the writer last after the writer moves away; "+
			"every node is Synced before the next.", nodes, isAre(static), them(static)))
}

// onlineSettingsDiagnostic is the plan's note that a settings change
// reaches the running servers without a restart.
func onlineSettingsDiagnostic(nodes int, what []string) diag.Diagnostic {
	return diag.NewWarningDiagnostic("Settings Applied Online",
		fmt.Sprintf("%s will be applied online on %d nodes (SET GLOBAL and the option file, one node at a time): no node restarts.",
			strings.Join(what, ", "), nodes))
}

// settingsCheckFailedDiagnostic: the plan could not ask the servers which
// parameters are dynamic; the apply asks again before changing anything.
func settingsCheckFailedDiagnostic(err error) diag.Diagnostic {
	return diag.NewAttributeWarningDiagnostic(path.Root("parameters"), "Could Not Ask The Servers",
		"The plan could not ask the running servers which of the changed parameters are dynamic; the apply asks again and refuses static ones before changing anything.\n\n"+err.Error())
}

// updateSettingsFailed reports a settings change that stopped part way:
// the nodes before the failing one have the new settings, the next apply
// sets them on the rest.
func updateSettingsFailed(id string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Settings Change Failed",
		fmt.Sprintf("Applying the settings of cluster %s online failed. Nodes before the failing one have the new settings; "+
			"fix the cause and apply again to finish.\n\n%s", id, err))
}

// rotateRootPasswordFailed reports a failed rotation.
func rotateRootPasswordFailed(id string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Root Password Rotation Failed",
		fmt.Sprintf("Rotating the root password of cluster %s failed; state keeps the previous password. "+
			"If the accounts already changed, the nodes listed before the failure have the new credentials; apply again to finish.\n\n%s", id, err))
}

func isAre(names []string) string {
	if len(names) == 1 {
		return names[0] + " is"
	}
	return strings.Join(names, ", ") + " are"
}

func them(names []string) string {
	if len(names) == 1 {
		return "it"
	}
	return "them"
}

// growVolumesFailed reports a volume grow that stopped part way: the nodes
// before the failing one have the new size, the next apply finishes.
func growVolumesFailed(id string, sizeGiB int, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("volume").AtName("size"), "Volume Grow Failed",
		fmt.Sprintf("Growing the data volumes of cluster %s to %d GiB failed. Nodes before the failing one have the new size; "+
			"nothing restarted. Fix the cause and apply again: it resumes where this stopped.\n\n%s", id, sizeGiB, err))
}

// invalidTLSDiagnostic refuses pxc_cluster.tls at the attribute at fault;
// it never repeats a key.
func invalidTLSDiagnostic(at path.Path, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(at, "Invalid TLS Settings",
		fmt.Sprintf("While checking %s, the cluster's TLS settings were refused; they would fail only after every server is built. "+
			"Correct them, or leave ca_cert and ca_key out to have the provider generate a CA.\n\nOriginal Error: %v", at, err))
}
