package provider

import (
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// All wording of OpenStack-related diagnostics lives here. Summaries are in
// Title Case; details say what was being attempted, what to do, and then the
// original error.

// invalidConfigDiagnostic reports settings rejected before any network call.
func invalidConfigDiagnostic(err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic("Invalid OpenStack Provider Configuration",
		"While configuring the provider, the OpenStack settings were rejected. Fix the provider block or the OS_* environment variables.\n\n"+
			"Original Error: "+err.Error())
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
